import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
BIN = Path(sys.executable).parent


def run_igrpo(*args, env=None, timeout=900):
    "Run the installed `igrpo` console script; returns the CompletedProcess (text mode)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / "igrpo"), *args], capture_output=True, text=True, env=e, timeout=timeout)


@pytest.fixture(scope="session")
def fresh_cache(tmp_path_factory):
    "An empty cache folder shared by the tests of one session."
    return tmp_path_factory.mktemp("igrpo-cache")
