"""`igrpo train` end to end on a tiny configuration: killed and resumed, and two processes against one."""

import json, os, subprocess
from pathlib import Path
import pytest
from conftest import run_igrpo, BIN, CPU2, kill_after_checkpoint, two_processes, zero3_env

WARMUP = [  # the paper recipe's settings, made tiny (the tests of this file were written against them)
    "--recipe",
    "paper",
    "--warmup-set",
    "model_size=test",
    "n_interleaved=30",
    "n_understanding=60",
    "n_t2i=60",
    "steps=30",
    "batch_size=8",
    "save_every=30",
    "warmup_steps=3",
    "eval_per_family=2",
]
SMALL = [
    "prompts_per_step=2",
    "num_generations=2",
    "save_every=2",
    "eval_every=0",
    "eval_per_family=2",
    "train_tasks=20",
]


def _train(out, cache, *settings):
    "`igrpo train` of the tiny configuration (`SMALL`, then `settings`; the warm-up `WARMUP`) into `out`."
    return run_igrpo(
        "train", "--out", str(out), "--quiet", "--set", *SMALL, *settings, *WARMUP, env={"IGRPO_CACHE": str(cache)}
    )


def _report(out):
    return json.loads((Path(out) / "report.json").read_text())


def _metrics(out):
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]


def test_killed_training_resumes_from_its_last_checkpoint(fresh_cache, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--quiet", "--set", "steps=6", *SMALL, *WARMUP]
    killed_at = kill_after_checkpoint(args, out, "step-00000002", env={"IGRPO_CACHE": str(fresh_cache)})
    r = run_igrpo(*args, "--resume", env={"IGRPO_CACHE": str(fresh_cache)})
    assert r.returncode == 0, r.stderr
    assert f"resuming from {out / 'checkpoints' / killed_at}" in r.stderr
    assert [m["step"] for m in _metrics(out)] == [1, 2, 3, 4, 5, 6]
    rep = json.loads((out / "report.json").read_text())
    assert rep["grpo"]["steps"] == 6 and set(rep) >= {"warmup", "grpo", "wall_s"}
    for k in ("format_ok", "interleaved_step_acc", "t2i_acc", "understanding_acc"):
        assert 0 <= rep["grpo"][k] <= 1 and 0 <= rep["warmup"][k] <= 1
    assert set(rep["grpo"]["rewards"]) >= {"reward/r_t", "reward/r_v", "reward/r_f"}
    assert json.loads((out / "config.json").read_text())["steps"] == 6  # the resolved settings are saved


def _weights(out):
    from safetensors.torch import load_file

    return load_file(str(next((Path(out) / "policy" / "model").glob("*.safetensors"))))


def test_two_processes_match_one_data_parallel_and_sharded(fresh_cache, tmp_path):
    """One process, two data-parallel processes (DDP) and two sharded ones (FSDP2 by the loop, and DeepSpeed ZeRO-3 by
    accelerate's config; both over gloo) sample the same answers, gather the same rewards and end with the same
    weights; the sharded runs are stopped after 2 steps and resumed from their collectively written checkpoints."""
    env = {**os.environ, "IGRPO_CACHE": str(fresh_cache), "OMP_NUM_THREADS": "1"}
    args = ["train", "--quiet", "--set", "beta=0.04", *SMALL, *WARMUP]
    one = subprocess.run(
        [str(BIN / "igrpo"), *args, "--max_steps", "3", "--out", str(tmp_path / "one")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert one.returncode == 0, one.stderr[-3000:]

    def two(name, *more):
        cmd = two_processes("-m", "interleaved_grpo.cli", *args, "--out", str(tmp_path / name), *more)
        return subprocess.run(cmd, env={**env, **CPU2}, capture_output=True, text=True, timeout=1200)

    ddp = two("ddp", "--max_steps", "3")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert "data parallel over 2 processes" in ddp.stderr
    fsdp = two("fsdp", "--max_steps", "2", "--fsdp", "full_shard")
    assert fsdp.returncode == 0, fsdp.stderr[-3000:]
    assert "FSDP2 over 2 processes (the loop)" in fsdp.stderr
    fsdp = two("fsdp", "--max_steps", "3", "--fsdp", "full_shard", "--resume")
    assert fsdp.returncode == 0, fsdp.stderr[-3000:]
    assert "resuming from" in fsdp.stderr
    ds_env = zero3_env(env, tmp_path)  # what configs/accelerate/deepspeed_zero3.yaml asks for, every weight split
    for steps, more in (("2", ()), ("3", ("--resume",))):
        cmd = two_processes("-m", "interleaved_grpo.cli", *args, "--out", str(tmp_path / "zero3"), "--max_steps", steps)
        zero = subprocess.run([*cmd, *more], env=ds_env, capture_output=True, text=True, timeout=1200)
        assert zero.returncode == 0, zero.stderr[-3000:]
        assert "DeepSpeed ZeRO-3 over 2 processes" in zero.stderr
    assert "resuming from" in zero.stderr
    m1 = _metrics(tmp_path / "one")
    assert [m["step"] for m in m1] == [1, 2, 3]
    assert all("kl/text" in m for m in _metrics(tmp_path / "zero3"))  # the reference (a ZeRO-3 engine) was read
    for name in ("ddp", "fsdp", "zero3"):
        m2 = _metrics(tmp_path / name)
        assert [m["step"] for m in m2] == [1, 2, 3], name  # one row a step: a single main process wrote them
        for a, b in zip(m1, m2):  # same samples, same gathered rewards; steps 2-3 check the updates
            for k in ("reward", "reward/r_t", "reward/r_v", "reward/r_f", "zero_spread_groups", "invalid"):
                assert a[k] == pytest.approx(b[k], abs=2e-3), (name, k, a[k], b[k])
        w1, w2 = _weights(tmp_path / "one"), _weights(tmp_path / name)
        assert set(w1) == set(w2)
        assert max(float((w1[k] - w2[k]).abs().max()) for k in w1) < 1e-6, name
    w_step2 = _weights(tmp_path / "one" / "checkpoints" / "step-00000002")
    assert max(float((w1[k] - w_step2[k]).abs().max()) for k in w1) > 1e-5  # step 3 moved them (lr 3e-5): not a no-op


def test_lora_sharded_matches_lora_in_one_process(fresh_cache, tmp_path):
    """LoRA adapters under FSDP2 and under DeepSpeed ZeRO-3 (two CPU processes each): the reference is the sharded base
    with adapters off; the same result as one process."""
    env = {**os.environ, "IGRPO_CACHE": str(fresh_cache), "OMP_NUM_THREADS": "1"}
    args = [
        "train",
        "--quiet",
        "--set",
        "beta=0.04",
        *SMALL,
        "--lora_r",
        "4",
        "--learning_rate",
        "1e-2",
        "--max_steps",
        "2",
        *WARMUP,
    ]
    one = subprocess.run(
        [str(BIN / "igrpo"), *args, "--out", str(tmp_path / "one")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run(
        two_processes("-m", "interleaved_grpo.cli", *args, "--fsdp", "full_shard", "--out", str(tmp_path / "two")),
        env={**env, **CPU2},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    assert "FSDP2 over 2 processes" in two.stderr and "LoRA rank 4" in two.stderr
    ds_env = zero3_env(env, tmp_path)  # and under DeepSpeed ZeRO-3: the reference is the engine with adapters off
    cmd = two_processes("-m", "interleaved_grpo.cli", *args, "--out", str(tmp_path / "zero3"))
    zero = subprocess.run(cmd, env=ds_env, capture_output=True, text=True, timeout=1200)
    assert zero.returncode == 0, zero.stderr[-3000:]
    assert "DeepSpeed ZeRO-3 over 2 processes" in zero.stderr and "LoRA rank 4" in zero.stderr
    assert all("kl/text" in m for m in _metrics(tmp_path / "zero3"))
    for name in ("two", "zero3"):
        for a, b in zip(_metrics(tmp_path / "one"), _metrics(tmp_path / name)):
            assert a["reward"] == pytest.approx(b["reward"], abs=2e-3)
        w1, w2 = _weights(tmp_path / "one"), _weights(tmp_path / name)
        assert max(float((w1[k] - w2[k]).abs().max()) for k in w1) < 1e-6, name


def test_train_rejects_bad_settings(tmp_path):
    r = run_igrpo("train", "--out", str(tmp_path), "--set", "loss_type=ppo")
    assert r.returncode == 2 and "loss_type must be one of" in r.stderr
    r = run_igrpo("train", "--out", str(tmp_path), "--config", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read --config" in r.stderr


def test_model_selection_on_the_val_split(fresh_cache, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "sel"
    r = _train(out, fresh_cache, "steps=4", "eval_every=2")
    assert r.returncode == 0, r.stderr
    best, rep = json.loads((out / "best.json").read_text()), json.loads((out / "report.json").read_text())
    assert rep["grpo"]["selected_step"] == best["step"] in (0, 2, 4)
    evals = [m for m in _metrics(out) if "val/interleaved_step_acc" in m]
    assert [m["step"] for m in evals] == [2, 4] and not any(k.startswith("eval/") for m in evals for k in m)
    for m in evals:  # nothing eligible did better on val than the kept policy
        if m["val/format_ok"] >= best["floor"]:
            assert m["val/interleaved_step_acc"] <= best["val"]["interleaved_step_acc"]
    a = load_file(str(next((out / "policy" / "model").glob("*.safetensors"))))
    b = load_file(str(next((out / "best_policy" / "model").glob("*.safetensors"))))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)  # the run's policy/ is the selected one
    assert set(rep["grpo_last_step"]) >= {"format_ok", "interleaved_step_acc"}


def test_compiled_scoring_trains_like_eager(fresh_cache, tmp_path):
    """`torch_compile=true` (the scorers through torch.compile) on the same warm-up: step 1 samples the same answers
    (rollouts do not go through the compiled scorer) and scores them as the eager run does, to float rounding; the
    trained weights agree within a stated tolerance."""
    from safetensors.torch import load_file

    rows = {}
    for name, extra in (("eager", []), ("compiled", ["torch_compile=true"])):
        out = tmp_path / name
        r = _train(out, fresh_cache, "steps=2", *extra)
        assert r.returncode == 0, r.stderr
        rows[name] = _metrics(out)
        assert json.loads((out / "train_config.json").read_text())["torch_compile"] == bool(extra)
        assert {"python", "torch", "transformers", "interleaved_grpo"} <= set(_report(out)["versions"])
    e, c = rows["eager"][0], rows["compiled"][0]
    assert e["step"] == c["step"] == 1 and len(rows["compiled"]) == 2
    for k in ("reward", "tokens/text", "tokens/image", "answer_len"):  # the same rollouts
        assert e[k] == c[k], (k, e[k], c[k])
    for k in ("loss", "entropy/text", "entropy/image"):  # scored by the compiled graphs
        assert abs(e[k] - c[k]) <= 1e-3 + 1e-3 * abs(e[k]), (k, e[k], c[k])
    a = load_file(str(next((tmp_path / "eager" / "policy" / "model").glob("*.safetensors"))))
    b = load_file(str(next((tmp_path / "compiled" / "policy" / "model").glob("*.safetensors"))))
    assert a.keys() == b.keys()
    # the trained weights, not only their names: after two updates at the recipe's learning rate (3e-5), every weight
    # agrees to 1e-5, a third of one Adam step (measured on an AMD EPYC: 3e-8 at most)
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a if a[k].is_floating_point())
    assert worst <= 1e-5, worst


def test_the_default_recipe_comes_before_the_users_settings(fresh_cache, tmp_path, monkeypatch):
    """Without --recipe the toy run takes the default recipe (`DEFAULT_RECIPE`): its warm-up settings come before
    --warmup-set and its GRPO settings before --set, so the user's win and the recipe's others hold."""
    from interleaved_grpo.toy.jobs import DEFAULT_RECIPE, TOY_RECIPES, recipe_overrides, warmup_folder

    no_recipe = WARMUP[WARMUP.index("--warmup-set") :]
    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--quiet", "--set", *SMALL, "steps=1", *no_recipe]
    r = run_igrpo(*args, env={"IGRPO_CACHE": str(fresh_cache)})
    assert r.returncode == 0, r.stderr[-3000:]
    cfg = json.loads((out / "config.json").read_text())
    recipe = TOY_RECIPES[DEFAULT_RECIPE].grpo
    assert cfg["steps"] == 1 and cfg["save_every"] == 2  # --set wins over the recipe
    assert cfg["lr"] == recipe["lr"] and cfg["lr"] != 3e-5  # the recipe's learning rate, not the default's
    monkeypatch.setenv("IGRPO_CACHE", str(fresh_cache))
    folder = warmup_folder("toy", recipe_overrides(DEFAULT_RECIPE, no_recipe[1:]))
    wcfg = json.loads((folder / "warmup_config.json").read_text())
    assert wcfg["model_size"] == "test" and wcfg["steps"] == 30  # --warmup-set wins
    assert wcfg["n_msr"] == 600 and wcfg["length_groups"] == 2  # the recipe's others hold
    rep = _report(out)
    assert rep["warmup"]["steps"] == 30 and rep["recipe"] == DEFAULT_RECIPE  # the report says which recipe ran
    assert rep["warmup_settings"] == recipe_overrides(DEFAULT_RECIPE, no_recipe[1:])
