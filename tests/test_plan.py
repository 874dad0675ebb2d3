"""`igrpo plan`: the command on the shipped configs (seconds, no weights), its bad inputs, and its per-card bytes
against what two FSDP2 processes really hold (the one-process strategies are checked in nbs/26_memory.ipynb)."""

import json, os, subprocess, time
from pathlib import Path
import pytest
from conftest import CPU2, run_igrpo, two_processes, zero3_env

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    "janus-pro-1b/grpo.yaml",
    "janus-pro-1b/warmup.yaml",
    "janus-pro-7b/grpo.yaml",
    "janus-pro-7b/grpo-qlora.yaml",
    "janus-pro-7b/warmup.yaml",
]


def test_plan_command_prints_a_config_without_weights():
    t = time.time()
    r = run_igrpo("plan", "--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert time.time() - t < 120  # seconds on any machine: nothing is downloaded or loaded
    d = json.loads(r.stdout)
    assert set(d["cards"]) == {"1", "8", "32"}
    one = d["cards"]["1"]
    assert one["largest"] == max(one["phases"], key=one["phases"].get)
    r = run_igrpo(
        "plan", "--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--gpus", "2", "--strategy", "fsdp2"
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 cards (fsdp2)" in r.stdout and "largest:" in r.stdout


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_plan_as_documented(name):
    "Janus-Pro sizes from the built-in shapes; the 1B configs and 7B QLoRA fit one 80 GB card with 15% headroom."
    from interleaved_grpo.train.memory import plan

    mp = plan(
        ROOT / "configs" / name,
        gpus=(1, 8),
        strategy="zero3" if "7b/grpo.yaml" in name or "7b/warmup" in name else None,
    )
    assert mp.components[1]["weights"] > 2**30  # a Janus-Pro, not a tiny model
    phase, peak = mp.largest(1)
    if name.startswith("janus-pro-1b") or "qlora" in name:
        assert peak <= 0.85 * 80 * 2**30, (phase, peak / 2**30)
    else:  # full fine-tuning of 7B needs its weights split: over 8 cards it fits
        assert peak > 0.85 * 80 * 2**30 and mp.largest(8)[1] <= 0.85 * 80 * 2**30, (mp.largest(1), mp.largest(8))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "nope.yaml"], "nope.yaml"),
        (["--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--model", "/no/such/model"], "no model config"),
    ],
)
def test_plan_refuses_bad_inputs(args, message):
    r = run_igrpo("plan", *args)
    assert r.returncode == 2, (r.stdout[-500:], r.stderr[-2000:])
    assert message in r.stderr and "Traceback" not in r.stderr


def test_plan_refuses_bad_settings_and_strategies():
    from interleaved_grpo.core.errors import IGRPOError
    from interleaved_grpo.train.memory import plan

    cfg = ROOT / "configs/janus-pro-1b/grpo.yaml"
    for kw, message in (
        (dict(overrides=["grad_accum=0"]), "grad_accum"),
        (dict(overrides=["nope=1"]), "nope"),
        (dict(strategy="tp"), "strategy must be one of"),
        (dict(overrides=["optim=adamw_8bit"], strategy="fsdp2"), "runs unsharded"),
    ):
        with pytest.raises(IGRPOError, match=message):
            plan(cfg, **kw)


STRATEGY_RUNS = {  # settings, what to compare besides the rollout copy
    "fsdp2": (["fsdp=full_shard"], ("weights", "optimizer", "reference")),
    "ddp": ([], ("weights", "optimizer", "reference")),
    "zero3": ([], ("weights", "gradients", "reference")),  # DeepSpeed creates Adam's moments at its first step
}


@pytest.mark.parametrize("strategy", list(STRATEGY_RUNS))
def test_plan_matches_what_two_processes_hold(strategy, tmp_path):
    "Per-process bytes of a tiny Janus prepared for GRPO over two CPU processes, against `plan` for two cards."
    more, keys = STRATEGY_RUNS[strategy]
    settings = ["beta=0.04", "rollout_dtype=bfloat16", "prompts_per_step=2", "num_generations=2", *more]
    cmd = two_processes(str(ROOT / "tests" / "helpers" / "held_bytes.py"), str(tmp_path), *settings)
    env = zero3_env(dict(os.environ), tmp_path) if strategy == "zero3" else {**os.environ, **CPU2}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    from transformers import JanusConfig
    from interleaved_grpo.train.memory import plan, shapes_of

    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1)]
    jcfg = JanusConfig(**ranks[0]["config"])
    comp = plan(model=jcfg, overrides=[*settings, "forced_pictures=1"], gpus=(2,), strategy=strategy).components[2]
    for k in (*keys, "rollout_copy"):
        for rank in ranks:  # a split weight's shards differ by a row at most
            assert abs(rank[k] - comp[k]) <= 0.01 * comp[k], (k, rank[k], comp[k])
        assert abs(sum(rank[k] for rank in ranks) / 2 - comp[k]) <= 1e-3 * comp[k], k
    if strategy == "ddp":  # the plan's gradients: each weight's own (loss-free modules excepted) and DDP's buckets
        sh = shapes_of(jcfg)
        assert all(rank["buckets"] == comp["gradients"] - 4 * (sh.params - sh.loss_free) for rank in ranks), ranks[0]
