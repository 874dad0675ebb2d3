"""Eager against compiled scoring (`torch_compile`, `compile_scorer` in 09_warmup) on the toy model: warm-up steps
(`sft_step`) and the GRPO update's scoring (policy forward + backward and a reference forward, `PolicyScorer`).

    IGRPO_CACHE=... python benchmarks/compile_speed.py [--steps 60] [--recipe paper|msr] [--length-groups 1]

The two settings alternate step by step on copies of the same model, so drift of the machine hits both alike. The
first `--warm` steps of each are not timed: they include the compilation, reported apart. Builds the toy assets into
the cache if they are missing (about 2 minutes). Run it with nothing else on the machine.
"""

import argparse
import copy
import statistics
import time
from dataclasses import replace

import torch
from accelerate import Accelerator

from interleaved_grpo.toy.assets import toy_assets
from interleaved_grpo.core.config import apply_overrides
from interleaved_grpo.toy.jobs import recipe_overrides, toy_warmup_data, toy_warmup_policy
from interleaved_grpo.train.data import WarmupCollator
from interleaved_grpo.train.grpo import TrainConfig
from interleaved_grpo.train.setup import PolicyScorer
from interleaved_grpo.train.warmup import TokenScorer, WarmupConfig, batch_indices, compile_scorer, sft_step


def grpo_scoring(scorer, ref, b) -> None:
    "The update's model work on one batch: reference log-probs without gradients, the policy's with backward."
    is_answer = torch.cat([torch.zeros_like(b["loss_mask"][:, :1]), b["loss_mask"]], 1)
    args = (b["ids"], b["modality"], b["attention_mask"], is_answer)
    with torch.no_grad():
        ref(*args, return_entropy=False)
    lp, ent = scorer(*args)
    ((lp * b["loss_mask"]).sum() + 0.01 * (ent * b["loss_mask"]).sum()).backward()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60, help="timed steps per setting")
    ap.add_argument("--warm", type=int, default=5, help="untimed first steps per setting (the compilation)")
    ap.add_argument("--recipe", default="paper", help="a toy warm-up recipe (`TOY_RECIPES`): its mix and settings")
    ap.add_argument(
        "--length-groups", type=int, default=None, help="the warm-up's length_groups (default: the recipe's)"
    )
    args = ap.parse_args()
    assets = toy_assets(progress=False)
    cfg = apply_overrides(WarmupConfig(), recipe_overrides(args.recipe))
    if args.length_groups is not None:
        cfg = replace(cfg, length_groups=args.length_groups)
    data = toy_warmup_data(cfg, assets, log=lambda m: None)
    base = toy_warmup_policy(cfg, assets)
    coll = WarmupCollator(base.spec.pad_id, cfg.cond_dropout, cfg.seed)
    acc = Accelerator()
    tcfg = TrainConfig()

    runs = {}
    for name in ("eager", "compiled"):
        model = copy.deepcopy(base.model)
        scorer = TokenScorer(model)
        grpo = PolicyScorer(model, tcfg, base.spec.pad_id)
        ref = PolicyScorer(copy.deepcopy(model), tcfg, base.spec.pad_id)
        if name == "compiled":
            for s in (scorer, grpo, ref):
                compile_scorer(s)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
        runs[name] = dict(scorer=scorer, grpo=grpo, ref=ref, opt=opt, sched=sched, warm=[0.0, 0.0], sft=[], upd=[])
    for step in range(args.warm + args.steps):
        b = coll([data[i] for i in batch_indices(len(data), 10_000 + step, cfg.batch_size, cfg.seed)])
        for r in runs.values():
            t0 = time.perf_counter()
            sft_step(r["scorer"], data, coll, step, cfg, acc, r["opt"], r["sched"])
            t1 = time.perf_counter()
            grpo_scoring(r["grpo"], r["ref"], b)
            r["opt"].zero_grad()
            t2 = time.perf_counter()
            if step < args.warm:
                r["warm"][0] += t1 - t0
                r["warm"][1] += t2 - t1
            else:
                r["sft"].append(t1 - t0)
                r["upd"].append(t2 - t1)
    e, c = runs["eager"], runs["compiled"]
    print(
        f"toy model, recipe {args.recipe}, batch {cfg.batch_size}, length_groups={cfg.length_groups}, "
        f"medians of {args.steps} steps"
    )
    for key, what in (("sft", "warm-up step (sft_step)"), ("upd", "GRPO scoring (policy fwd+bwd, reference fwd)")):
        te, tc = statistics.median(e[key]), statistics.median(c[key])
        print(f"{what}: eager {te * 1e3:.0f} ms, compiled {tc * 1e3:.0f} ms, {te / tc:.2f}x")
    print(
        f"first {args.warm} steps (compilation included): warm-up {c['warm'][0]:.1f} s compiled against "
        f"{e['warm'][0]:.1f} s eager; GRPO scoring {c['warm'][1]:.1f} s against {e['warm'][1]:.1f} s"
    )


if __name__ == "__main__":
    main()
