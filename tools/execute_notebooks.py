"""Execute the notebooks through a real Jupyter kernel and write their outputs back; time each one.

    python tools/execute_notebooks.py [--nbs nbs] [--only REGEX] [--timeout 900] [--times FILE] [--check]

Every notebook in `nbs/` runs top to bottom in the `python3` kernel (the one the `ipykernel` dev dependency installs),
with the notebook folder as its working directory. Cells flagged `#| slow`, `#| notest` or `#| eval: false` are not
executed and keep the outputs they have (a slow cell's result is shown by the cell after it, loaded from a committed
file). Outputs are written back and `nbdev-clean` tidies the metadata. The seconds each notebook took go to
`--times` (JSON), which `nbs/96_workshop.ipynb` shows as its run-time table. `--check` executes without writing
anything back and fails if a cell raises. A notebook that fails is left as it was and the command exits non-zero after
trying the rest.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
SKIP = re.compile(r"^#\|\s*(slow|notest|eval:\s*false)\s*$", re.MULTILINE)
TAG = "skip-execution"


def mark_skipped(nb) -> list:
    "Tag the cells that must not run; returns the indices tagged here (to untag after)."
    tagged = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and SKIP.search(cell.source):
            tags = cell.metadata.setdefault("tags", [])
            if TAG not in tags:
                tags.append(TAG)
                tagged.append(i)
    return tagged


def unmark(nb, tagged: list) -> None:
    for i in tagged:
        tags = nb.cells[i].metadata["tags"]
        tags.remove(TAG)
        if not tags:
            del nb.cells[i].metadata["tags"]


def execute(path: Path, timeout: int) -> tuple:
    "Run one notebook (in memory): (seconds, the executed notebook). Raises CellExecutionError on a failing cell."
    nb = nbformat.read(path, as_version=4)
    tagged = mark_skipped(nb)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    )
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    unmark(nb, tagged)
    return seconds, nb


def write_times(path: Path, times: dict) -> None:
    "Merge `times` into the timings file (notebooks not run this time keep their last time)."
    old = json.loads(path.read_text()) if path.exists() else {}
    record = {
        "command": "python tools/execute_notebooks.py",  # a notebook re-run alone (--only) replaces its own time
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "seconds": dict(sorted({**old.get("seconds", {}), **times}.items())),
    }
    record["total_s"] = round(sum(record["seconds"].values()), 1)
    path.write_text(json.dumps(record, indent=1) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="the folder of notebooks")
    ap.add_argument("--only", default="", help="run only notebooks whose file name matches this regular expression")
    ap.add_argument("--timeout", type=int, default=900, help="seconds a cell may take")
    ap.add_argument("--times", default="", help="where to write the timings (default: NBS/run_times.json)")
    ap.add_argument("--check", action="store_true", help="execute only: write nothing back")
    args = ap.parse_args(argv)
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend draws figures into the outputs
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if shutil.which("nvidia-smi") is None:  # DeepSpeed's "Setting accelerator to CPU" warning, dated, in the outputs
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    # tqdm.auto warns in a kernel without ipywidgets (text bars are what the committed outputs should show anyway)
    quiet = "ignore:IProgress not found"
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    nbs = Path(args.nbs)
    times_path = Path(args.times) if args.times else nbs / "run_times.json"
    paths = [p for p in sorted(nbs.glob("*.ipynb")) if re.search(args.only, p.name)]
    if not paths:
        print(f"no notebook matches {args.only!r}", file=sys.stderr)
        return 2
    times, failed = {}, []
    for k, path in enumerate(paths, 1):
        print(f"[{k}/{len(paths)}] {path.name} ...", end=" ", flush=True)
        try:
            seconds, nb = execute(path, args.timeout)
        except CellExecutionError as e:
            failed.append(path.name)
            print("FAILED")
            print(str(e)[-3000:], file=sys.stderr)
            continue
        times[path.name] = round(seconds, 1)
        print(f"{seconds:.1f} s")
        if not args.check:
            nbformat.write(nb, path)
            write_times(times_path, times)  # after each notebook: the workshop page reads it
    if not args.check:
        if nbs.resolve() == (ROOT / "nbs").resolve():  # the project's notebooks: tidy metadata as nbdev does
            subprocess.run([str(Path(sys.executable).parent / "nbdev-clean")], cwd=ROOT, check=False)
    total = sum(times.values())
    print(f"{len(times)} notebooks in {total:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
