"""How well do the learned rewards track the oracle? Samples G answers per training prompt from a policy, scores them
with
r_t / r_v / r_f / r_d and with the toy oracle, and prints the correlations and how often the best-rewarded answer of a
group is
among the oracle-best ones (the signal GRPO actually uses).

    python benchmarks/reward_alignment.py --checkpoint runs/toy      # a run folder, its policy folder, or a checkpoint
"""

import argparse, os
import numpy as np
from interleaved_grpo.core.policy import Policy
from interleaved_grpo.toy.assets import toy_assets
from interleaved_grpo.train.grpo import TrainConfig, rollout
from interleaved_grpo.rl.rewards import (
    TextRelevance,
    VisualAlignment,
    StructuralFidelity,
    DirectionalAlignment,
    score_answers,
)
from interleaved_grpo.rl.scorers import TextEncoder
from interleaved_grpo.toy.world import grade, FAMILIES
from interleaved_grpo.toy.plugins import toy_prompts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--prompts", type=int, default=48)
    ap.add_argument("--G", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--weights", default="{}", help="reward_weights as JSON, e.g. '{\"r_d\": 2}'")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pol, assets = Policy.load(a.checkpoint), toy_assets(progress=False)
    prompts = toy_prompts("train", a.prompts, seed=a.seed)
    tasks = [it.meta for it in prompts.items]
    cfg = TrainConfig(num_generations=a.G, temperature=a.temperature)
    gen, answers, inputs = rollout(pol, prompts.items, cfg, prompts.max_steps, row_seeds=list(range(a.prompts * a.G)))
    import json

    fns = [
        TextRelevance(TextEncoder()),
        VisualAlignment(assets.clip),
        StructuralFidelity(),
        DirectionalAlignment(assets.clip),
    ]
    tv, vv, dv = fns[0].step_scores(inputs), fns[1].step_scores(inputs), fns[3].step_scores(inputs)
    R = score_answers(fns, inputs, json.loads(a.weights))
    rep = [t for t in tasks for _ in range(a.G)]
    grades = [grade(t, x) for t, x in zip(rep, answers)]
    rows = [
        (t.family, vv[i][j], tv[i][j], g["text_ok"][j], g["step_correct"][j], dv[i][j])
        for i, (t, g) in enumerate(zip(rep, grades))
        for j in range(min(len(vv[i]), len(g["step_correct"])))
    ]
    fam = np.array([r[0] for r in rows])
    v, tt = (np.array([r[k] for r in rows], float) for k in (1, 2))
    txt_ok, ok, d = (np.array([r[k] for r in rows], float) for k in (3, 4, 5))
    corr = lambda x, y: float(np.corrcoef(x, y)[0, 1]) if x.std() and y.std() else float("nan")
    print(f"{len(rows)} steps, oracle step accuracy {ok.mean():.3f}")
    print(
        f"corr(r_v step, step correct) {corr(v, ok):.3f}   corr(r_d step, step correct) {corr(d, ok):.3f}   "
        f"corr(r_t step, text correct) {corr(tt, txt_ok):.3f}"
    )
    for f in FAMILIES:
        m = fam == f
        print(
            f"  {f}: {int(m.sum())} steps, accuracy {ok[m].mean():.3f}, corr r_v {corr(v[m], ok[m]):.3f}, corr r_d "
            f"{corr(d[m], ok[m]):.3f}, corr r_t {corr(tt[m], txt_ok[m]):.3f}"
        )
    sa = np.array([g["step_acc"] for g in grades])
    print(f"corr(total reward, answer step accuracy) {corr(R.total.numpy(), sa):.3f}")
    tot, s = R.total.numpy().reshape(-1, a.G), sa.reshape(-1, a.G)
    spread = np.where(s.max(1) > s.min(1))[0]
    hit = np.mean([s[k, tot[k].argmax()] == s[k].max() for k in spread]) if len(spread) else float("nan")
    print(
        f"groups whose answers differ under the oracle: {len(spread)} of {len(s)}; best-rewarded answer is "
        f"oracle-best in {hit:.2f} of them"
    )


if __name__ == "__main__":
    main()
