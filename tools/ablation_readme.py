"""Regenerate RESULTS.md's ablation results and their figure from the committed `results/ablations/ablations.json`.

    python tools/ablation_readme.py [--state results/ablations/ablations.json] [--readme RESULTS.md]

Rewrites the part of RESULTS.md between the ablation markers (`readme_section` in `research/ablation_research.py`)
and draws `nbs/images/ablation_curves.png` (`plot_curves` there: validation step accuracy, mean and spread over
seeds, for every variant with a GRPO run; the rollout rewards are left out because the variants' rewards have different
scales).
`research/ablations.ipynb` checks that the two agree.
"""

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "research"))  # the research helpers are not part of the library

from ablation_research import plot_curves, readme_section, replace_readme_section  # noqa: E402
from interleaved_grpo.toy.ablate import VARIANTS  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", default=str(ROOT / "results" / "ablations" / "ablations.json"))
    ap.add_argument("--readme", default=str(ROOT / "RESULTS.md"))
    ap.add_argument("--figure", default="nbs/images/ablation_curves.png", help="relative to the results file's folder")
    args = ap.parse_args(argv)
    state = json.loads(Path(args.state).read_text())
    readme = Path(args.readme)
    shown = [v for v in VARIANTS if any(r["variant"] == v and r.get("curve") for r in state["runs"])]
    fig = plot_curves(state, shown, keys=("val/interleaved_step_acc",))  # rewards differ in scale across variants
    fig.savefig(readme.parent / args.figure, dpi=70)
    readme.write_text(replace_readme_section(readme.read_text(), readme_section(state, args.figure)))
    print(f"RESULTS.md ablation section and {args.figure} regenerated from {len(state['runs'])} runs")


if __name__ == "__main__":
    main()
