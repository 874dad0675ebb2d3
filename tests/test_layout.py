"""The architecture the layout promises: who may import whom, no import cycles, lines a reader can see, ruff clean."""

import ast, shutil, subprocess, sys
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1] / "interleaved_grpo"
# what each layer may import from the library (besides itself); `cli` is the composition root and may import anything
ALLOWED = {
    "core": {"core"},
    "rl": {"core", "rl"},
    "train": {"core", "rl", "train"},
    "eval": {"core", "eval"},
    "toy": {"core", "rl", "train", "eval", "toy"},
}


def _modules():
    for f in sorted(PKG.rglob("*.py")):
        if f.name != "_modidx.py":
            yield f


def _name(f: Path) -> str:
    rel = f.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(f: Path, top_level_only: bool = False) -> set:
    "Library modules that `f` imports (absolute names), at module level only or anywhere (lazy imports too)."
    tree = ast.parse(f.read_text())
    me = _name(f).split(".")
    pkg = me if f.name == "__init__.py" else me[:-1]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for n in nodes:
        if isinstance(n, ast.ImportFrom):
            base = pkg[: len(pkg) - n.level + 1] if n.level else []
            mod = ".".join(base + ([n.module] if n.module else [])) if n.level else n.module
            if not mod or not mod.startswith("interleaved_grpo"):
                continue
            for a in n.names:  # `from pkg import module` imports a module
                sub = f"{mod}.{a.name}"
                out.add(sub if (PKG.parent / Path(*sub.split("."))).with_suffix(".py").exists() else mod)
        elif isinstance(n, ast.Import):
            out |= {a.name for a in n.names if a.name.startswith("interleaved_grpo")}
    return out


def _layer(mod: str):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def test_layers_import_only_what_the_dependency_rule_allows():
    bad = []
    for f in _modules():
        me = _layer(_name(f))
        if me is None:
            continue  # cli and the package root
        for dep in _imports(f):
            other = _layer(dep)
            if other is not None and other not in ALLOWED[me]:
                bad.append(f"{_name(f)} imports {dep}")
    assert not bad, "\n".join(bad)


def test_only_toy_and_the_cli_import_the_toy_world():
    bad = [
        f"{_name(f)} imports {d}"
        for f in _modules()
        for d in _imports(f)
        if _layer(d) == "toy" and _layer(_name(f)) != "toy" and _name(f) != "interleaved_grpo.cli"
    ]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {_name(f): {d for d in _imports(f, top_level_only=True)} for f in _modules()}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m) :] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in graph.get(m, ()):
            visit(d)
        stack.pop()

    for m in graph:
        visit(m)
    assert not cycles, cycles


def test_lines_fit_in_120_characters():
    """Every module line, nbdev's generated `__all__` included (nbdev wraps the list at 120 and then prefixes
    `__all__ = `: when that first line runs long, reorder the notebook's exported cells)."""
    long = [
        f"{f.relative_to(PKG.parent)}:{i}"
        for f in _modules()
        for i, line in enumerate(f.read_text().splitlines(), 1)
        if len(line) > 120
    ]
    assert not long, long


def test_the_checker_sees_a_violation(tmp_path):
    "The import analysis itself: a relative import of the toy world from train is reported."
    f = PKG / "train" / "_probe_layout.py"
    f.write_text("from ..toy.world import WorldConfig\n")
    try:
        assert "interleaved_grpo.toy.world" in _imports(f)
    finally:
        f.unlink()


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (it comes with the dev extra)",
)
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    r = subprocess.run([ruff, "check", str(PKG)], capture_output=True, text=True, cwd=PKG.parent)
    assert r.returncode == 0, r.stdout[-3000:]


def test_accelerate_configs_load_with_accelerates_own_reader():
    "The launcher configs in configs/accelerate parse as accelerate reads them, with the settings their comments claim."
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    root = Path(__file__).resolve().parents[1] / "configs" / "accelerate"
    ddp = load_config_from_file(str(root / "ddp.yaml"))
    assert ddp.distributed_type == DistributedType.MULTI_GPU and ddp.mixed_precision == "bf16"
    fsdp = load_config_from_file(str(root / "fsdp2.yaml"))
    assert fsdp.distributed_type == DistributedType.FSDP and fsdp.fsdp_config["fsdp_version"] == 2
    assert fsdp.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    from transformers.models.llama import modeling_llama

    assert hasattr(modeling_llama, "LlamaDecoderLayer")  # the class Janus's language model is built from
