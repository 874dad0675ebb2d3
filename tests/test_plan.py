"""`igrpo plan`: the command on the shipped configs (seconds, no weights), its bad inputs, and its per-card bytes
against what two FSDP2 processes really hold (the one-process strategies are checked in nbs/26_memory.ipynb)."""

import json, os, subprocess, time
from pathlib import Path
import pytest
from conftest import CPU2, run_igrpo, two_processes

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    "janus-pro-1b/grpo.yaml",
    "janus-pro-1b/warmup.yaml",
    "janus-pro-7b/grpo.yaml",
    "janus-pro-7b/grpo-qlora.yaml",
]


@pytest.mark.parametrize("name", CONFIGS)
def test_plan_prints_the_shipped_configs_without_weights(name):
    t = time.time()
    r = run_igrpo("plan", "--config", str(ROOT / "configs" / name), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert time.time() - t < 120  # seconds on any machine: nothing is downloaded or loaded
    d = json.loads(r.stdout)
    assert set(d["cards"]) == {"1", "8", "32"}
    one = d["cards"]["1"]
    assert one["largest"] == max(one["phases"], key=one["phases"].get)
    assert one["components"]["weights"] > 1.0  # GiB: a Janus-Pro, not a tiny model
    if name.startswith("janus-pro-1b") or "qlora" in name:  # what the shipped configs promise: one 80 GB card
        assert one["fits"] and one["phases"][one["largest"]] <= 68, one


def test_plan_text_names_the_largest_phase():
    r = run_igrpo(
        "plan", "--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--gpus", "2", "--strategy", "fsdp2"
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 cards (fsdp2)" in r.stdout and "largest:" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "nope.yaml"], "nope.yaml"),
        (["--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--model", "/no/such/model"], "no model config"),
        (["--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--set", "grad_accum=0"], "grad_accum"),
        (["--config", str(ROOT / "configs/janus-pro-1b/grpo.yaml"), "--set", "nope=1"], "nope"),
    ],
)
def test_plan_refuses_bad_inputs(args, message):
    r = run_igrpo("plan", *args)
    assert r.returncode == 2, (r.stdout[-500:], r.stderr[-2000:])
    assert message in r.stderr and "Traceback" not in r.stderr


def test_plan_matches_what_two_fsdp2_processes_hold(tmp_path):
    settings = ["fsdp=full_shard", "beta=0.04", "rollout_dtype=bfloat16", "prompts_per_step=2", "num_generations=2"]
    cmd = two_processes(str(ROOT / "tests" / "helpers" / "held_bytes.py"), str(tmp_path), *settings)
    r = subprocess.run(cmd, env={**os.environ, **CPU2}, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    from transformers import JanusConfig
    from interleaved_grpo.train.memory import plan

    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1)]
    jcfg = JanusConfig(**ranks[0]["config"])
    mp = plan(model=jcfg, overrides=[*settings, "forced_pictures=1"], gpus=(2,), strategy="fsdp2")
    for k in ("weights", "optimizer", "reference", "rollout_copy"):
        want = mp.components[2][k]
        for rank in ranks:  # FSDP2 splits each weight along its first dimension: shards differ by a row at most
            assert abs(rank[k] - want) <= 0.02 * want, (k, rank[k], want)
        assert abs(sum(rank[k] for rank in ranks) / 2 - want) <= 0.005 * want, k
