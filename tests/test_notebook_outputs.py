"""The notebooks are committed with their outputs: no committed output is an error, and every code cell that should
have run (not `#| slow`, `#| eval: false` or `notest`) and ends with a value to show (a name, a tuple, an expression,
or a `print`/`display`/`Markdown` call) has an output. Re-execute them with `nbdev-test --n-workers 1 --save`."""

import ast, json
from pathlib import Path
import pytest

NBS = sorted((Path(__file__).resolve().parents[1] / "nbs").glob("*.ipynb"))
SHOWS = ("print", "display", "Markdown", "HTML")


def shows_a_value(src: str) -> bool:
    "Whether the cell's last statement leaves a value for Jupyter to show."
    body = "\n".join(line for line in src.splitlines() if not line.startswith("#|"))
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return False
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or body.rstrip().endswith(";"):
        return False
    v = tree.body[-1].value
    if isinstance(v, ast.Call):
        f = v.func
        return (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in SHOWS
    return not isinstance(v, ast.Constant)


def test_the_check_itself():
    assert shows_a_value("x = 1\nx") and shows_a_value("a, b") and shows_a_value("print(3)")
    assert not shows_a_value("x = 1") and not shows_a_value("srv.shutdown()") and not shows_a_value("x;")
    assert not shows_a_value("#| export\ndef f():\n    return 1")


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_committed_outputs(nb):
    missing, errors = [], []
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        flags = " ".join(line for line in src.splitlines() if line.startswith("#|"))
        if any(f in flags for f in ("slow", "eval: false", "notest")):
            continue
        outs = c.get("outputs", [])
        errors += [i for o in outs if o.get("output_type") == "error"]
        if shows_a_value(src) and not outs:
            missing.append((i, src.strip().splitlines()[-1][:70]))
    assert not errors, f"{nb.name}: error outputs in cells {errors}"
    assert not missing, f"{nb.name}: cells without their output (re-run nbdev-test --save): {missing}"
