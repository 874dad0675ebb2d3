"""Run under `torchrun` (two CPU processes): prepare a GRPO run of a tiny Janus as `train_grpo` does, with the settings
given as arguments, and write the bytes this process holds between steps, by component, to OUT/rank<N>.json.

    torchrun --standalone --nproc_per_node 2 tests/helpers/held_bytes.py OUT fsdp=full_shard beta=0.04 ...
"""

import json, sys
from pathlib import Path
import torch
from accelerate import Accelerator
from interleaved_grpo.core.config import apply_overrides
from interleaved_grpo.toy.assets import toy_assets
from interleaved_grpo.toy.jobs import toy_warmup_policy
from interleaved_grpo.train.grpo import TrainConfig
from interleaved_grpo.train.setup import PolicyScorer, prepare_run
from interleaved_grpo.train.warmup import WarmupConfig


def local_bytes(tensors) -> int:
    "Bytes this process stores of `tensors` (a sharded DTensor counts its local shard)."
    return sum(t.to_local().nbytes if hasattr(t, "to_local") else t.nbytes for t in tensors)


def main(out: Path, settings: list) -> None:
    torch.manual_seed(0)
    policy = toy_warmup_policy(WarmupConfig(model_size="toy"), toy_assets(progress=False))
    cfg = apply_overrides(TrainConfig(reward_terms=["r_f"]), settings)
    cfg.__post_init__()
    acc = Accelerator(cpu=True)
    run = prepare_run(policy, cfg, out / "run", False, acc, lambda m: None)
    ref = run.ref_scorer
    held = dict(
        weights=local_bytes(run.policy.model.parameters()),
        optimizer=local_bytes(v for s in run.moments.state.values() for v in s.values() if v.dim()),
        reference=local_bytes(ref.model.parameters()) if isinstance(ref, PolicyScorer) else 0,
        rollout_copy=local_bytes(run.sampler.model.parameters()) if run.sampler else 0,
        config=policy.model.model.config.to_dict(),
    )
    (out / f"rank{acc.process_index}.json").write_text(json.dumps(held))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
