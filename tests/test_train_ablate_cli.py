"""`igrpo ablate` on a tiny configuration: variants x seeds sharing one warm-up, records and Markdown written after
every run, finished runs skipped when the command is run again."""

import json
import shlex
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
    assert state["meta"]["recipe"] == "paper" and "Recipe: `paper`" in md  # recorded beside the command
    before = {p: p.stat().st_mtime for p in (out / "runs").rglob("report.json")}
    r = run_igrpo(
        "ablate", "--out", str(out), "--seeds", "2", "--variants", "default,g2", "--quiet", *SETS, *WARMUP, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    after = {p: p.stat().st_mtime for p in (out / "runs").rglob("report.json")}
    state_after = json.loads((out / "ablations.json").read_text())
    assert all(after[p] == t for p, t in before.items())  # finished runs were not run again
    assert sorted(p.parent.parent.name for p in set(after) - set(before)) == ["g2", "g2"]
    r = run_igrpo("ablate", "--out", str(out), "--variants", "nope", env=env)
    assert r.returncode == 2 and "unknown variants ['nope']" in r.stderr
    no_recipe = WARMUP[WARMUP.index("--warmup-set") :]  # the default recipe: other settings than the folder's
    r = run_igrpo("ablate", "--out", str(out), "--seeds", "2", "--variants", "default", *SETS, *no_recipe, env=env)
    assert r.returncode == 2 and "give the same --recipe, --set and --warmup-set" in r.stderr, r.stderr[-2000:]
    assert json.loads((out / "ablations.json").read_text())["runs"] == state_after["runs"]  # nothing mixed in


def test_vary_warmup_gives_each_seed_its_own_warmup(fresh_cache, tmp_path, monkeypatch):
    from interleaved_grpo.toy.jobs import warmup_folder

    out = tmp_path / "abl"
    env = {"IGRPO_CACHE": str(fresh_cache)}
    args = ["ablate", "--out", str(out), "--seeds", "2", "--variants", "warmup_only,default", "--quiet", *SETS]
    # the default mix written out: the same warm-up, and a setting with spaces for the recorded command to quote
    props = 'proportions={"interleaved": 0.3, "understanding": 1.0, "t2i": 1.0}'
    r = run_igrpo(*args, *WARMUP, props, "--vary-warmup", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "ablations.json").read_text())
    assert shlex.split(state["meta"]["command"]) == ["igrpo", *args, *WARMUP, props, "--vary-warmup"]
    got = sorted((x["variant"], x["seed"]) for x in state["runs"])
    assert got == [("default", 0), ("default", 1), ("warmup_only", 0), ("warmup_only", 1)]
    assert state["vary_warmup"] is True and state["meta"]["vary_warmup"] is True
    assert state["summary"]["warmup_only"]["interleaved_step_acc"][2] == 2  # a warm-up record per seed
    monkeypatch.setenv("IGRPO_CACHE", str(fresh_cache))
    wsets = WARMUP[WARMUP.index("--warmup-set") + 1 :]
    for s in (0, 1):  # run s started from the cached warm-up of warm-up seed s, and its record is that warm-up's
        cached = json.loads((warmup_folder("toy", [*wsets, f"seed={s}"]) / "report.json").read_text())
        run = json.loads((out / "runs" / "default" / f"seed{s}" / "report.json").read_text())
        assert run["warmup"] == cached
        rec = next(x for x in state["runs"] if x["variant"] == "warmup_only" and x["seed"] == s)
        assert rec["metrics"]["interleaved_step_acc"] == cached["interleaved_step_acc"]
    assert warmup_folder("toy", [*wsets, "seed=0"]) != warmup_folder("toy", [*wsets, "seed=1"])
    assert "Warm-up: one per seed" in (out / "ablations.md").read_text()
    r = run_igrpo(*args, *WARMUP, env=env)  # the same folder without --vary-warmup: refused, nothing mixed
    assert r.returncode == 2 and "vary_warmup=True" in r.stderr
    r = run_igrpo(*args, *WARMUP, "seed=3", "--vary-warmup", "--out", str(tmp_path / "other"), env=env)
    assert r.returncode == 2 and "leave seed out" in r.stderr


def test_every_claim_is_rerun_at_reduced_size(fresh_cache, tmp_path):
    """Each claim of the claims table (`CLAIMS`, the paper's ablations as the README states them) and the pooled-vs-
    per-step comparison, rerun at a tiny size: one seed, one GRPO step per variant on the tiny warm-up. The verdicts
    mean nothing at this size; what is checked is that every variant a claim rests on trains through its own code path
    (its settings reach the run) and that the table judges every claim from those runs."""
    from interleaved_grpo.toy.ablate import CLAIMS, VARIANTS

    names = sorted({v for c in CLAIMS for v in c[1:3]} | {"per_step_norm"})
    out = tmp_path / "claims"
    env = {"IGRPO_CACHE": str(fresh_cache)}
    r = run_igrpo(
        "ablate", "--out", str(out), "--seeds", "1", "--variants", ",".join(names), "--quiet", *SETS, *WARMUP, env=env
    )
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "ablations.json").read_text())
    assert sorted(x["variant"] for x in state["runs"]) == names
    assert [c["claim"] for c in state["claims"]] == [c[0] for c in CLAIMS]
    assert all(c["verdict"] in ("holds", "does not hold", "inconclusive") for c in state["claims"])
    for name in names:
        if name == "warmup_only":
            continue
        cfg = json.loads((out / "runs" / name / "seed0" / "config.json").read_text())
        want = dict(kv.split("=", 1) for kv in VARIANTS[name].settings(SETS[1:]))  # the base, then the variant's
        for k, v in want.items():
            assert cfg[k] == _value(v), (name, k, cfg[k], v)
        assert 0 <= state_metrics(state, name)["interleaved_step_acc"] <= 1


def state_metrics(state: dict, name: str) -> dict:
    return next(x["metrics"] for x in state["runs"] if x["variant"] == name)


def _value(v: str):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v
