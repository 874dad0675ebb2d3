"""Bad input through `igrpo` as a new user types it: each fails with one line naming the culprit (exit 2, no
traceback) before anything is built, and leaves no run folder behind. The command's entry point runs in this process
(the imports paid once); the first cases also run as a separate process, as a user runs them. How long a refusal takes
is measured by `benchmarks/bad_input_latency.py`, not here."""

import pytest
from conftest import run_igrpo
from interleaved_grpo.cli import main


def igrpo(capsys, *args) -> tuple:
    "(exit code, what it printed on stderr) of `igrpo ARGS` run in this process."
    code = main(list(args))
    return code, capsys.readouterr().err


BAD_SETTINGS = [
    # (command, extra args, what the one line must say)
    ("train", ["--set", "steps=-5"], "steps must be a whole number >= 1, got -5"),
    ("train", ["--set", "lerning_rate=1e-4"], "did you mean 'learning_rate'?"),
    ("train", ["--set", "num_generations=1"], "num_generations must be >= 2"),
    ("train", ["--set", "temperature=0"], "temperature must be > 0"),
    ("train", ["--set", "lora_dropout=1.5"], "lora_dropout must be in [0, 1)"),
    ("train", ["--set", "keep_best=maybe"], "keep_best expects true or false"),
    ("train", ["--set", "steps=2.5"], "steps expects a whole number"),
    ("train", ["--set", "num_train_epochs=3"], "has no counterpart here: training length is counted in updates"),
    ("train", ["--set", "fp16=true"], "GRPO trains in float32 or under bf16 autocast"),
    ("train", ["--set", "report_to=mlflow"], "report_to: unknown tracker 'mlflow'"),
    ("train", ["--warmup-set", "batch_size=0"], "batch_size must be a whole number >= 1"),
    ("warmup", ["--set", "lr=0"], "lr must be > 0"),
    ("warmup", ["--set", "cond_dropout=2"], "cond_dropout must be in [0, 1]"),
    ("warmup", ["--set", "proportions={interleaved: -1}"], "proportions must map sources to weights >= 0"),
    ("warmup", ["--set", "use_vllm=true"], "the library's decoder, not vLLM"),
]


@pytest.mark.parametrize("command,extra,says", BAD_SETTINGS, ids=[" ".join(b[1]) for b in BAD_SETTINGS])
def test_a_bad_setting_fails_at_once_and_writes_nothing(tmp_path, capsys, command, extra, says):
    out = tmp_path / "run"
    code, err = igrpo(capsys, command, "--out", str(out), "--quiet", *extra)
    assert code == 2 and says in err, err[-2000:]
    assert len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("command,extra,says", BAD_SETTINGS[:2], ids=[" ".join(b[1]) for b in BAD_SETTINGS[:2]])
def test_as_a_separate_process_too(tmp_path, command, extra, says):
    out = tmp_path / "run"
    r = run_igrpo(command, "--out", str(out), "--quiet", *extra)
    assert r.returncode == 2 and says in r.stderr, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr and not out.exists()


@pytest.mark.parametrize(
    "name,text,says",
    [
        ("broken.yaml", "max_steps: 3\n  beta: 0\n", "broken.yaml, line 2 column 7"),
        ("broken.json", '{"max_steps": 3,}', "broken.json, line 1 column 17"),
        ("list.yaml", "- max_steps\n", "expected a mapping of settings, got list"),
        ("quoted.yaml", "mixed_precision: no\n", "quote words such as no and yes"),
        ("missing.yaml", None, "cannot read --config"),
    ],
)
def test_a_bad_settings_file_is_named_with_its_line(tmp_path, capsys, name, text, says):
    "A file that does not parse fails with the file and the place, and no run kind is guessed around it."
    if text is not None:
        (tmp_path / name).write_text(text)
    out = tmp_path / "run"
    code, err = igrpo(capsys, "train", "--config", str(tmp_path / name), "--out", str(out), "--quiet")
    assert code == 2 and says in err, err[-2000:]
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_no_run_folder_at_all_is_asked_for(capsys):
    code, err = igrpo(capsys, "train", "--quiet", "--set", "steps=3")
    assert code == 2 and "give --out DIR or output_dir" in err, err[-2000:]


def test_the_listing_of_an_unknown_setting_has_the_real_run_names(tmp_path, capsys):
    "A real run's unknown setting lists every name the command takes: the loop's and the model, data and servers'."
    (tmp_path / "p.jsonl").write_text('{"id": "a", "prompt": [{"text": "draw.", "image": null}], "n_steps": 1}\n')
    code, err = igrpo(
        capsys, "train", "--out", str(tmp_path / "run"), "--set", f"prompts_file={tmp_path / 'p.jsonl'}", "zzz=1"
    )
    assert code == 2 and "unknown setting 'zzz'" in err
    assert all(k in err for k in ("model_name_or_path", "critic_base_url", "per_device_train_batch_size"))
