"""`igrpo ablate` on a tiny configuration: variants x seeds sharing one warm-up, records and Markdown written after
every run, finished runs skipped when the command is run again."""

import json
from conftest import run_igrpo
from test_train_cli import WARMUP

SETS = ["--set", "steps=1", "prompts_per_step=2", "save_every=1", "eval_every=0", "eval_per_family=2", "train_tasks=20"]


def test_ablation_runs_variants_and_seeds_then_resumes_skipping_finished_runs(fresh_cache, tmp_path):
    out = tmp_path / "abl"
    env = {"IGRPO_CACHE": str(fresh_cache)}
    r = run_igrpo(
        "ablate",
        "--out",
        str(out),
        "--seeds",
        "2",
        "--variants",
        "warmup_only,default,beta0",
        "--quiet",
        *SETS,
        *WARMUP,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "ablations.json").read_text())
    got = sorted((x["variant"], x["seed"]) for x in state["runs"])
    assert got == [("beta0", 0), ("beta0", 1), ("default", 0), ("default", 1), ("warmup_only", 0)]
    run = next(x for x in state["runs"] if x["variant"] == "beta0")
    assert run["overrides"] == ["beta=0"] and run["steps"] == 1 and [c["step"] for c in run["curve"]] == [1]
    assert 0 <= run["metrics"]["interleaved_step_acc"] <= 1 and "step_acc/MSR" in run["metrics"]
    assert set(run["mismatch"]) == {"mismatch/image", "mismatch/text"}  # the CFG-scoring gap, per run
    assert json.loads((out / "runs" / "beta0" / "seed1" / "config.json").read_text())["beta"] == 0
    assert json.loads((out / "runs" / "beta0" / "seed1" / "config.json").read_text())["seed"] == 1
    assert state["summary"]["default"]["interleaved_step_acc"][2] == 2  # mean, sd, n over 2 seeds
    claim = next(c for c in state["claims"] if c["claim"] == "GRPO improves on the warm-up alone")
    assert claim["verdict"] in ("holds", "does not hold", "inconclusive") and "effect" in claim
    md = (out / "ablations.md").read_text()
    assert "| default | 2 |" in md and "igrpo ablate --out" in md and md in r.stdout
    before = {p: p.stat().st_mtime for p in (out / "runs").rglob("report.json")}
    r = run_igrpo(
        "ablate", "--out", str(out), "--seeds", "2", "--variants", "default,g2", "--quiet", *SETS, *WARMUP, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    after = {p: p.stat().st_mtime for p in (out / "runs").rglob("report.json")}
    assert all(after[p] == t for p, t in before.items())  # finished runs were not run again
    assert sorted(p.parent.parent.name for p in set(after) - set(before)) == ["g2", "g2"]
    r = run_igrpo("ablate", "--out", str(out), "--variants", "nope", env=env)
    assert r.returncode == 2 and "unknown variants ['nope']" in r.stderr
