"""The exercises at the end of the core notebooks: every one is in its notebook, and its check says "not yet" on the
unmodified exercise cell (the solutions notebook, run by nbdev-test, asserts they pass with the solutions)."""

import json
import re
from pathlib import Path

import pytest

from interleaved_grpo.toy.exercises import EXERCISES, check

NBS = Path(__file__).resolve().parent.parent / "nbs"
MARK = re.compile(r"^# Exercise: (\S+)")


def exercise_cells():
    "{exercise name: (notebook stem, cell source)} for every cell that starts with '# Exercise: NAME'."
    found = {}
    for nb in sorted(NBS.glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            src = "".join(cell["source"])
            m = MARK.match(src)
            if cell["cell_type"] == "code" and m:
                assert m.group(1) not in found, f"exercise {m.group(1)} appears twice"
                found[m.group(1)] = (nb.stem, src)
    return found


def test_every_exercise_is_in_its_notebook():
    cells = exercise_cells()
    assert set(cells) == set(EXERCISES)
    for name, (stem, _) in cells.items():
        assert stem == EXERCISES[name][0], (name, stem)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_unmodified_exercise_is_not_yet(name):
    _, src = exercise_cells()[name]
    ns = {}
    exec(src, ns)
    fns = [v for k, v in ns.items() if callable(v) and not k.startswith("__")]
    assert len(fns) == 1, f"the exercise cell of {name} should define one function"
    verdict = check(name, fns[0])
    assert not verdict and "not yet" in repr(verdict)


def test_solutions_notebook_solves_every_exercise():
    nb = json.loads((NBS / "95_solutions.ipynb").read_text())
    src = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for name in EXERCISES:
        assert f'assert check("{name}"' in src, f"95_solutions does not assert a solution to {name}"
