"""`igrpo warmup` killed and resumed, and `igrpo generate` from its checkpoint (a small model and few steps)."""

import json
import pytest
from conftest import run_igrpo, kill_after_checkpoint

SMALL = [
    "model_size=test",
    "n_interleaved=30",
    "n_understanding=60",
    "n_t2i=60",
    "batch_size=8",
    "steps=60",
    "save_every=20",
    "log_every=5",
    "warmup_steps=5",
    "eval_per_family=2",
]


@pytest.fixture(scope="module")
def resumed_run(fresh_cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("warmup")
    killed_at = kill_after_checkpoint(
        ["warmup", "--out", str(out), "--quiet", "--set", *SMALL],
        out,
        "step-00000020",
        env={"IGRPO_CACHE": str(fresh_cache)},
        timeout=900,
    )
    assert not (out / "report.json").exists()
    r = run_igrpo(
        "warmup", "--out", str(out), "--quiet", "--resume", "--set", *SMALL, env={"IGRPO_CACHE": str(fresh_cache)}
    )
    assert r.returncode == 0, r.stderr
    return out, killed_at, r


def test_killed_warmup_resumes_to_the_same_step_count(resumed_run):
    out, killed_at, r = resumed_run
    assert "resuming from" in r.stderr and killed_at in r.stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["steps"] == 60
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-00000060"
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(5, 61, 5))  # no step logged twice, none missing
    for k in ("format_ok", "understanding_acc", "t2i_acc", "interleaved_step_acc"):
        assert 0.0 <= rep[k] <= 1.0
    assert (out / "loss.png").stat().st_size > 1000
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"loss/interleaved", "loss/understanding", "loss/t2i"} <= set(last)  # each source's loss, per window
    assert all(last[f"loss/{s}"] > 0 for s in ("interleaved", "understanding", "t2i"))
    assert (out / "source_loss.png").stat().st_size > 1000


def test_generate_writes_an_html_page(resumed_run, tmp_path):
    out, _, _ = resumed_run
    page = tmp_path / "answer.html"
    r = run_igrpo(
        "generate",
        "--checkpoint",
        str(out),
        "--prompt",
        "build this in 2 steps: a red circle at the top left, a blue square at the bottom right.",
        "--out",
        str(page),
        "--max-new-tokens",
        "60",
    )
    assert r.returncode == 0, r.stderr
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "build this in 2 steps" in html


def test_generate_bad_inputs(resumed_run, tmp_path):
    out, _, _ = resumed_run
    r = run_igrpo("generate", "--checkpoint", str(tmp_path), "--prompt", "hi")
    assert r.returncode == 2 and "is not a checkpoint folder" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps([{"text": None, "image": None}]))
    r = run_igrpo("generate", "--checkpoint", str(out), "--segments", str(bad))
    assert r.returncode == 2 and "p.json[0]: a segment needs text or an image" in r.stderr
    r = run_igrpo(
        "generate", "--checkpoint", str(out), "--prompt", "describe the picture.", "--image", str(tmp_path / "nope.png")
    )
    assert r.returncode == 2 and "picture not found" in r.stderr


def test_warmup_rejects_unknown_settings(tmp_path):
    r = run_igrpo("warmup", "--out", str(tmp_path), "--set", "stepz=3")
    assert r.returncode == 2 and "unknown setting 'stepz'" in r.stderr


def test_warmup_on_user_records_names_the_bad_record(fresh_cache, tmp_path):
    from PIL import Image
    import numpy as np

    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(tmp_path / "blank.png")
    good = {
        "prompt": [
            {
                "text": "draw: top left: nothing, top right: nothing, bottom left: nothing, bottom right: nothing.",
                "image": None,
            }
        ],
        "answer": [{"text": "here it is.", "image": "blank.png"}],
    }
    bad = {"id": "r-bad", "prompt": [{"text": "hi", "image": "missing.png"}], "answer": "ok"}
    data = tmp_path / "mine.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in [good, good, bad]))
    small = [x for x in SMALL if not x.startswith("steps=")] + ["steps=4", f"interleaved_data={data}"]
    r = run_igrpo(
        "warmup", "--out", str(tmp_path / "run"), "--quiet", "--set", *small, env={"IGRPO_CACHE": str(fresh_cache)}
    )
    assert r.returncode == 2 and "record r-bad" in r.stderr and "missing.png" in r.stderr, r.stderr
    r = run_igrpo(
        "warmup",
        "--out",
        str(tmp_path / "run2"),
        "--quiet",
        "--set",
        *small,
        "skip_bad_records=true",
        env={"IGRPO_CACHE": str(fresh_cache)},
    )
    assert r.returncode == 0 and "skipped 1 bad records" in r.stderr, r.stderr


def test_eval_toy_with_a_checkpoint_answers_scores_and_resumes(resumed_run, tmp_path):
    out, _, _ = resumed_run
    data, res = tmp_path / "toybench", tmp_path / "eval"
    args = [
        "eval",
        "toy",
        "--data",
        str(data),
        "--checkpoint",
        str(out),
        "--per-family",
        "2",
        "--out",
        str(res / "scores.json"),
        "--quiet",
    ]
    r = run_igrpo(*args, "--judge", "toy-oracle")
    assert r.returncode == 0, r.stderr
    s = json.loads((res / "scores.json").read_text())
    assert {f: v["n"] for f, v in s["oracle"]["per_family"].items()} == {"SA": 2, "PBL": 2, "MSR": 2}
    answered = json.loads((res / "answers_mmie" / "data.json").read_text())
    assert [a["model"] for a in answered] == ["igrpo"] * 6
    for rec in answered:  # every picture an answer names was saved beside the file
        for sgm in rec["answer"]:
            if sgm["image"]:
                assert (res / "answers_mmie" / sgm["image"]).exists()
        for sgm in rec["question"]:
            if sgm["image"]:
                assert (res / "answers_mmie" / sgm["image"]).exists()
    assert s["mmie"]["n_valid"] + s["mmie"]["n_dropped"] == 6 and 0 <= s["mmie"]["avg"] <= 6
    assert set(s["interleavedbench"]["per_aspect"]) == {
        "text_quality",
        "perceptual_quality",
        "image_coherence",
        "text_image_coherence",
        "helpfulness",
    }
    prog = res / "answers_mmie" / "data.json.progress.jsonl"
    n_lines = len(prog.read_text().splitlines())
    r = run_igrpo(*args, "--judge", "cache-only")  # a rerun answers nothing and judges nothing again
    assert r.returncode == 0, r.stderr
    s2 = json.loads((res / "scores.json").read_text())
    assert len(prog.read_text().splitlines()) == n_lines == 6
    assert (s2["mmie"]["avg"], s2["interleavedbench"]["avg"], s2["oracle"]) == (
        s["mmie"]["avg"],
        s["interleavedbench"]["avg"],
        s["oracle"],
    )
    assert (s2["mmie"]["n_judged"], s2["interleavedbench"]["n_judged"]) == (0, 0)


def test_warmup_sharded_by_deepspeed_zero3_matches_data_parallel(fresh_cache, tmp_path):
    """Two processes warm up alike data parallel (DDP, rows of similar length in passes of their own) and sharded by
    DeepSpeed ZeRO-3 (accelerate's config, over gloo; one pass). The ZeRO-3 run is killed after its first checkpoint
    and resumed from it (weights, Adam moments and the learning-rate schedule, written in the unsharded layout), and
    ends with the DDP run's weights."""
    import os, signal, subprocess, time
    from pathlib import Path
    from safetensors.torch import load_file
    from conftest import CPU2, two_processes, zero3_env

    settings = [s for s in SMALL if not s.startswith(("steps=", "save_every="))] + ["steps=20", "save_every=10"]
    # DDP runs each micro-batch in passes of rows of similar length (with `no_sync` between them), ZeRO-3 in one pass
    settings.append("length_groups=2")
    env = {**os.environ, "IGRPO_CACHE": str(fresh_cache), "OMP_NUM_THREADS": "1"}
    ds_env = zero3_env(env, tmp_path)

    def cmd(name, *more):
        return two_processes("-m", "interleaved_grpo.cli", "warmup", "--out", str(tmp_path / name), "--quiet", *more)

    ddp = subprocess.run([*cmd("ddp"), "--set", *settings], env={**env, **CPU2}, capture_output=True, text=True)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    first = subprocess.Popen(
        [*cmd("zero3"), "--set", *settings], env=ds_env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    latest, deadline = tmp_path / "zero3" / "checkpoints" / "latest", time.time() + 900
    while first.poll() is None and time.time() < deadline and not latest.exists():
        time.sleep(0.2)
    assert first.poll() is None, first.stderr.read()[-3000:]
    os.killpg(first.pid, signal.SIGKILL)  # torchrun and both workers
    first.wait()
    assert latest.read_text().strip() == "step-00000010"
    zero = subprocess.run([*cmd("zero3", "--resume"), "--set", *settings], env=ds_env, capture_output=True, text=True)
    assert zero.returncode == 0, zero.stderr[-3000:]
    assert "DeepSpeed ZeRO-3 over 2 processes" in zero.stderr and "resuming from" in zero.stderr

    def weights(name):
        return load_file(str(next((tmp_path / name / "policy" / "model").glob("*.safetensors"))))

    w1, w2 = weights("ddp"), weights("zero3")
    assert set(w1) == set(w2)
    gap = max(float((w1[k] - w2[k]).abs().max()) for k in w1)
    assert gap < 1e-5, gap
    for name in ("ddp", "zero3"):  # one schedule step per update, however many processes (cosine after 5 warm-up steps)
        rows = [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in rows] == list(range(5, 21, 5))
        assert [r["lr"] for r in rows] == pytest.approx([2e-3, 1.5e-3, 5e-4, 0.0], abs=1e-9), name
    assert Path(tmp_path / "zero3" / "report.json").exists()


def test_a_named_recipe_sets_the_warmup_and_set_overrides_it(fresh_cache, tmp_path):
    out = tmp_path / "msr"
    small = [s for s in SMALL if not s.startswith("steps=")] + ["steps=6", "n_msr=12"]
    env = {"IGRPO_CACHE": str(fresh_cache)}
    r = run_igrpo("warmup", "--out", str(out), "--quiet", "--recipe", "msr", "--set", *small, env=env)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((out / "warmup_config.json").read_text())
    assert (cfg["msr_share"], cfg["msr_kinds"], cfg["length_groups"]) == (0.6, "balanced", 2)  # the recipe's
    assert (cfg["n_msr"], cfg["steps"]) == (12, 6)  # --set after the recipe wins
    assert cfg["proportions"] == {"interleaved": 0.6, "understanding": 0.4, "t2i": 1.0}
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["loss/msr"] > 0  # the recipe's MSR source is in the mix


def test_compiled_warmup_scores_like_eager(fresh_cache, tmp_path):
    """`torch_compile=true` in the warm-up: the first step's loss (before any update, the same batch and weights) is the
    eager run's to float rounding, the run ends with a report, and the checkpoint holds the same tensor names."""
    from importlib.metadata import version
    from pathlib import Path
    from safetensors.torch import load_file

    short = [s for s in SMALL if not s.startswith(("steps=", "save_every=", "log_every="))]
    short += ["steps=4", "save_every=4", "log_every=1"]
    first = {}
    for name, extra in (("eager", []), ("compiled", ["torch_compile=true"])):
        out = tmp_path / name
        r = run_igrpo(
            "warmup", "--out", str(out), "--quiet", "--set", *short, *extra, env={"IGRPO_CACHE": str(fresh_cache)}
        )
        assert r.returncode == 0, r.stderr
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert [m["step"] for m in rows] == [1, 2, 3, 4] and (out / "report.json").exists()
        assert json.loads((out / "warmup_config.json").read_text())["torch_compile"] == bool(extra)
        versions = json.loads((out / "report.json").read_text())["versions"]  # what the run was trained with
        assert versions["torch"] == version("torch") and versions["transformers"] == version("transformers")
        first[name] = rows[0]
    for k in ("loss", "text_loss", "image_loss"):
        assert abs(first["eager"][k] - first["compiled"][k]) <= 1e-4 * max(1.0, abs(first["eager"][k])), k
    keys = [set(load_file(str(next(Path(tmp_path / n / "policy" / "model").glob("*.safetensors"))))) for n in first]
    assert keys[0] == keys[1]
