import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
BIN = Path(sys.executable).parent


def two_processes(*args) -> list:
    """The command that runs `args` (a script and its arguments, or `-m module ...`) as two CPU processes over gloo.
    `torchrun` starts them; `ACCELERATE_USE_CPU` (in `CPU2`) tells accelerate they are CPU processes. (`accelerate
    launch --cpu --num_processes 2` starts a single process: accelerate 1.15's launcher runs `--cpu` jobs alone.)"""
    return [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", *args]


CPU2 = {"ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}


def zero3_env(env: dict, folder) -> dict:
    """`env` for accelerate to run DeepSpeed ZeRO-3 (as `configs/accelerate/deepspeed_zero3.yaml` asks), its config
    written to `folder/zero3.json`: every weight split, however small (persistence threshold 0), and the batch size
    left to the run (`auto`)."""
    import json

    path = Path(folder) / "zero3.json"
    zero3 = {"stage": 3, "stage3_param_persistence_threshold": 0}
    path.write_text(json.dumps({"zero_optimization": zero3, "train_micro_batch_size_per_gpu": "auto"}))
    ds = {"OMP_NUM_THREADS": "1", "ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(path)}
    return {**env, **ds}


def run_igrpo(*args, env=None, timeout=900):
    "Run the installed `igrpo` console script; returns the CompletedProcess (text mode)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / "igrpo"), *args], capture_output=True, text=True, env=e, timeout=timeout)


@pytest.fixture(scope="session")
def fresh_cache(tmp_path_factory):
    "An empty cache folder shared by the tests of one session."
    return tmp_path_factory.mktemp("igrpo-cache")


def kill_after_checkpoint(args, out, step_name, env=None, timeout=1200):
    """Start `igrpo *args`, SIGKILL it once `out/checkpoints/latest` names `step_name` or later; returns the checkpoint
    name
    that `latest` held when the process died."""
    import signal, time

    p = subprocess.Popen(
        [str(BIN / "igrpo"), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    latest = Path(out) / "checkpoints" / "latest"
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        if latest.exists() and latest.read_text().strip() >= step_name:
            break
        time.sleep(0.2)
    assert p.poll() is None, f"the run ended before it could be killed: {p.stderr.read()[-2000:]}"
    p.send_signal(signal.SIGKILL)
    p.wait()
    return latest.read_text().strip()
