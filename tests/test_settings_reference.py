"""The settings reference in configs/README.md is generated from the config classes and must match them."""

import importlib.util
import shutil
import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("settings_reference", ROOT / "tools" / "settings_reference.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["settings_reference"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_configs_readme_matches_the_config_classes():
    assert _tool().main(["--check"]) == 0, "run: python tools/settings_reference.py"


def test_the_check_fails_when_a_default_drifts(tmp_path, monkeypatch):
    from interleaved_grpo.train.grpo import TrainConfig

    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "configs" / "README.md", readme)
    tool = _tool()
    assert tool.main(["--check", "--file", str(readme)]) == 0
    field = next(f for f in fields(TrainConfig) if f.name == "lr")
    monkeypatch.setattr(field, "default", 5e-5)  # as if someone changed the default and not the file
    assert tool.main(["--check", "--file", str(readme)]) == 1


def test_every_setting_says_what_it_means():
    from interleaved_grpo.core.config import setting_notes
    from interleaved_grpo.train.grpo import TrainConfig
    from interleaved_grpo.train.run import RunSources, WarmupSources
    from interleaved_grpo.train.warmup import WarmupConfig

    for cls in (TrainConfig, WarmupConfig, RunSources, WarmupSources):
        missing = sorted({f.name for f in fields(cls)} - set(setting_notes(cls)))
        assert not missing, f"{cls.__name__}: give these fields a comment in the class: {missing}"
