"""Run under `torchrun` (two CPU processes): prepare a GRPO run of a tiny Janus as `train_grpo` does, with the settings
given as arguments, and write the bytes this process holds between steps, by component, to OUT/rank<N>.json.

    torchrun --standalone --nproc_per_node 2 tests/helpers/held_bytes.py OUT fsdp=full_shard beta=0.04 ...
"""

import json, re, sys
from pathlib import Path
import torch
from interleaved_grpo.core.config import apply_overrides
from interleaved_grpo.toy.assets import toy_assets
from interleaved_grpo.toy.jobs import toy_warmup_policy
from interleaved_grpo.train.grpo import TrainConfig, _accelerator
from interleaved_grpo.train.setup import PolicyScorer, prepare_run
from interleaved_grpo.train.warmup import WarmupConfig


def local_bytes(tensors) -> int:
    "Bytes this process stores of `tensors` (a sharded DTensor counts its local shard)."
    return sum(t.to_local().nbytes if hasattr(t, "to_local") else t.nbytes for t in tensors)


def storage_bytes(tensors) -> int:
    "Bytes of the storages behind `tensors`, each counted once (ZeRO-3's partitions are views of flat buffers)."
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())


def zero3_bytes(run) -> dict:
    "What a DeepSpeed ZeRO-3 process holds: partitions, float32 masters, the gradient partition, the reference's."
    zo = run.scorer.optimizer
    ref = run.ref_scorer.module if hasattr(run.ref_scorer, "module") else run.ref_scorer
    return dict(
        weights=storage_bytes(p.ds_tensor for p in run.policy.model.parameters())
        + storage_bytes(zo.fp32_partitioned_groups_flat),
        gradients=zo.grad_partitions_flat_buffer.nbytes,
        reference=storage_bytes(p.ds_tensor for p in ref.parameters()),
    )


def main(out: Path, settings: list) -> None:
    torch.manual_seed(0)
    policy = toy_warmup_policy(WarmupConfig(model_size="toy"), toy_assets(progress=False))
    cfg = apply_overrides(TrainConfig(reward_terms=["r_f"]), settings)
    cfg.__post_init__()
    acc = _accelerator(cfg)  # as train_grpo starts it: DDP, FSDP2 or ZeRO-3 from the environment
    run = prepare_run(policy, cfg, out / "run", False, acc, lambda m: None)
    ref = run.ref_scorer
    if run.sharding == "zero3":
        extra = zero3_bytes(run)
    elif hasattr(run.scorer, "_get_ddp_logging_data"):  # DDP: the buckets it copies gradients into
        extra = {"buckets": sum(map(int, re.findall(r"\d+", run.scorer._get_ddp_logging_data()["bucket_sizes"])))}
    else:
        extra = {}
    held = dict(
        weights=local_bytes(run.policy.model.parameters()),
        optimizer=local_bytes(v for s in getattr(run.moments, "state", {}).values() for v in s.values() if v.dim()),
        reference=local_bytes(ref.model.parameters()) if isinstance(ref, PolicyScorer) else 0,
        rollout_copy=local_bytes(run.sampler.model.parameters()) if run.sampler else 0,
        config=policy.model.model.config.to_dict(),
    )
    held.update(extra)
    (out / f"rank{acc.process_index}.json").write_text(json.dumps(held))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
