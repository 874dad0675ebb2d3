"""`tools/execute_notebooks.py`: notebooks run through a real Jupyter kernel, outputs written back, slow cells left
alone, timings recorded; a notebook that fails is left as it was and the command exits non-zero."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "execute_notebooks.py"


def _notebook(path: Path, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nbformat.write(nb, path)


def test_executes_writes_back_and_keeps_failures(tmp_path):
    _notebook(tmp_path / "a_good.ipynb", ["x = 6 * 7\nx", "#| slow\nraise RuntimeError('a slow cell must not run')"])
    _notebook(tmp_path / "b_bad.ipynb", ["1 + 1", "raise ValueError('broken on purpose')"])
    before_bad = (tmp_path / "b_bad.ipynb").read_text()
    r = subprocess.run(
        [sys.executable, str(TOOL), "--nbs", str(tmp_path), "--timeout", "120"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "failed: b_bad.ipynb" in r.stdout and "broken on purpose" in r.stderr
    good = nbformat.read(tmp_path / "a_good.ipynb", as_version=4)
    assert good.cells[0].outputs[0]["data"]["text/plain"] == "42"
    assert good.cells[1].outputs == [] and "tags" not in good.cells[1].metadata  # skipped, untouched
    assert (tmp_path / "b_bad.ipynb").read_text() == before_bad  # nothing written over a failed notebook
    times = json.loads((tmp_path / "run_times.json").read_text())
    assert set(times["seconds"]) == {"a_good.ipynb"} and times["total_s"] > 0


def test_check_writes_nothing(tmp_path):
    _notebook(tmp_path / "c.ipynb", ["print('hello')"])
    before = (tmp_path / "c.ipynb").read_text()
    r = subprocess.run(
        [sys.executable, str(TOOL), "--nbs", str(tmp_path), "--check"], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "c.ipynb").read_text() == before and not (tmp_path / "run_times.json").exists()
