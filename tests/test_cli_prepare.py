"""`igrpo prepare` end to end: build from an empty cache, reuse, interrupted builds, and bad input."""

import json, os, signal, subprocess, time
from pathlib import Path
import pytest
from conftest import run_igrpo, BIN


def _report(out):
    return json.loads((Path(out) / "prepare_report.json").read_text())


def test_prepare_builds_then_reuses(fresh_cache, tmp_path):
    # the session's shared cache, unless a test that ran earlier has filled it already
    cache = fresh_cache if not any(Path(fresh_cache).glob("toy-*")) else tmp_path / "cache"
    env = {"IGRPO_CACHE": str(cache)}
    r = run_igrpo("prepare", "--preset", "toy", "--out", str(tmp_path / "a"), "--quiet", env=env)
    assert r.returncode == 0, r.stderr
    rep = _report(tmp_path / "a")
    assert rep["reused"] is False and "building toy assets" in r.stderr
    assert rep["vq_scene_accuracy"] >= 0.95, rep
    assert rep["clip_top1"] >= 0.90, rep
    assert rep["minilm_dim"] == 384
    assert json.loads(r.stdout) == rep  # the report is printed too

    r2 = run_igrpo("prepare", "--preset", "toy", "--out", str(tmp_path / "b"), env=env)
    assert r2.returncode == 0, r2.stderr
    rep2 = _report(tmp_path / "b")
    assert rep2["reused"] is True and "reusing cached toy assets" in r2.stderr
    assert rep2["cache_dir"] == rep["cache_dir"]
    assert rep2["vq_scene_accuracy"] == rep["vq_scene_accuracy"] and rep2["clip_top1"] == rep["clip_top1"]
    assert rep2["wall_s"] < rep["wall_s"]  # reuse skips the training (timings: see benchmarks, notes)


def test_killed_build_leaves_no_complete_entry(tmp_path):
    cache = tmp_path / "cache"
    p = subprocess.Popen(
        [str(BIN / "igrpo"), "prepare", "--quiet"],
        env={**os.environ, "IGRPO_CACHE": str(cache)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(cache.glob(".toy-*/image_tokenizer/codebook.safetensors")):
        time.sleep(0.5)
    assert any(cache.glob(".toy-*")), "the build never started"
    p.send_signal(signal.SIGKILL)
    p.wait()
    entries = [d for d in cache.iterdir() if not d.name.startswith(".")]
    assert entries == [], entries  # nothing that a later call would trust
    assert not any(cache.glob("**/assets.json"))


@pytest.mark.parametrize(
    "args, message", [(["prepare", "--preset", "no-such-preset"], "unknown preset 'no-such-preset'")]
)
def test_bad_preset(args, message, tmp_path):
    r = run_igrpo(*args, env={"IGRPO_CACHE": str(tmp_path)})
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_cache_folder_not_writable(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    r = run_igrpo("prepare", "--cache-dir", str(blocker / "cache"))
    assert r.returncode == 2, r.stderr
    assert "cache folder" in r.stderr and "is not writable" in r.stderr and "Traceback" not in r.stderr


def test_out_folder_not_writable(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    r = run_igrpo("prepare", "--cache-dir", str(tmp_path / "c"), "--out", str(blocker / "out"))
    assert r.returncode == 2 and "output folder" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_help_lists_prepare():
    r = run_igrpo("--help")
    assert r.returncode == 0 and "prepare" in r.stdout
