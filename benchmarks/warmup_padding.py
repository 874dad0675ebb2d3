"""The toy warm-up's step time with each micro-batch run in one padded pass against in groups of rows of similar length
(`WarmupConfig.length_groups`), on the default mix, and the fixed cost of one extra pass (`PASS_COST`).

    IGRPO_CACHE=... python benchmarks/warmup_padding.py [--steps 30] [--groups 1,2,3]

Builds the toy assets into the cache if they are missing (about 2 minutes). Run it with nothing else on the machine.
"""

import argparse
import copy
import statistics
import time
from dataclasses import replace

import torch
from accelerate import Accelerator

from interleaved_grpo.toy.assets import toy_assets
from interleaved_grpo.toy.jobs import toy_warmup_data, toy_warmup_policy
from interleaved_grpo.train.data import WarmupCollator
from interleaved_grpo.train.warmup import TokenScorer, WarmupConfig, batch_indices, length_parts, sft_step


def pass_cost(model, shapes, repeat=5):
    "Median seconds of one forward and backward pass of the token log-probs at each (rows, length)."
    scorer = TokenScorer(model)
    out = {}
    for B, T in shapes:
        ids = torch.randint(0, 40, (B, T))
        mod = torch.zeros(B, T, dtype=torch.long)
        times = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            scorer(ids, mod).sum().backward()
            times.append(time.perf_counter() - t0)
        model.zero_grad()
        out[(B, T)] = statistics.median(times[1:])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30, help="warm-up steps timed per setting")
    ap.add_argument("--groups", default="1,2,3", help="length_groups settings to compare")
    args = ap.parse_args()
    assets = toy_assets(progress=False)
    cfg = WarmupConfig()
    data = toy_warmup_data(cfg, assets, log=lambda m: None)
    base = toy_warmup_policy(cfg, assets)
    coll = WarmupCollator(base.spec.pad_id, cfg.cond_dropout, cfg.seed)

    pad = total = 0
    for s in range(200):
        b = coll([data[i] for i in batch_indices(len(data), s, cfg.batch_size, cfg.seed)])
        total += b["attention_mask"].numel()
        pad += int((b["attention_mask"] == 0).sum())
    print(f"padding: {pad / total:.1%} of the positions of the first 200 batches of {cfg.batch_size}")

    shapes = [(B, T) for B in (4, 8, 16, 32) for T in (48, 100, 151)]
    cost = pass_cost(copy.deepcopy(base.model), shapes)
    x = torch.tensor([B * T for B, T in shapes], dtype=torch.float64)
    y = torch.tensor([cost[s] for s in shapes], dtype=torch.float64)
    A = torch.stack([torch.ones_like(x), x], 1)
    a, b_ = torch.linalg.lstsq(A, y[:, None]).solution[:, 0].tolist()
    print(
        f"one pass (forward + backward): {a * 1e3:.1f} ms + {b_ * 1e6:.1f} us per position; "
        f"an extra pass costs as much as {a / b_:.0f} positions"
    )

    acc = Accelerator()
    groups = [int(g) for g in args.groups.split(",")]
    runs = {}
    for g in groups:
        model = copy.deepcopy(base.model)
        scorer = TokenScorer(model)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
        runs[g] = (scorer, opt, sched, replace(cfg, length_groups=g), [])
    for step in range(args.steps + 2):  # settings alternate step by step; the first two steps are not timed
        for g, (scorer, opt, sched, c, times) in runs.items():
            t0 = time.perf_counter()
            sft_step(scorer, data, coll, step, c, acc, opt, sched)
            if step >= 2:
                times.append(time.perf_counter() - t0)
    one = statistics.median(runs[groups[0]][4])
    for g, run in runs.items():
        b = coll([data[i] for i in batch_indices(len(data), 0, cfg.batch_size, cfg.seed)])
        n_parts = len(length_parts(b, g))
        t = statistics.median(run[4])
        print(
            f"length_groups={g}: {t * 1e3:.0f} ms per step (median of {args.steps}), "
            f"{one / t:.2f}x the first setting; batch 0 runs in {n_parts} pass(es)"
        )


if __name__ == "__main__":
    main()
