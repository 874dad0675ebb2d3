"""A real-model policy folder: a tiny `JanusForConditionalGeneration` + `JanusProcessor` (built from configs, saved with
`save_pretrained`) is saved as a policy, loaded back, and answers through `igrpo generate`."""

import json
import numpy as np
import pytest
import torch
from conftest import run_igrpo

WORDS = "a red blue circle square moves to the top bottom left right appears . draw".split()


@pytest.fixture(scope="module")
def janus_policy_dir(tmp_path_factory):
    from transformers import JanusForConditionalGeneration
    from interleaved_grpo.core.codecs import tiny_janus_processor, janus_token_spec, JanusVQTokenizer
    from interleaved_grpo.core.model import tiny_janus_config, JanusAdapter
    from interleaved_grpo.core.policy import Policy

    root = tmp_path_factory.mktemp("janus")
    proc = tiny_janus_processor(WORDS, image_size=32, image_len=16)
    proc.save_pretrained(str(root / "hf"))
    torch.manual_seed(0)
    hf = JanusForConditionalGeneration(
        tiny_janus_config("test", text_vocab_size=len(proc.tokenizer), image_vocab_size=64)
    )
    hf.save_pretrained(str(root / "hf"))
    # what a user has: a transformers checkpoint folder with its processor
    hf = JanusForConditionalGeneration.from_pretrained(str(root / "hf")).eval()
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(str(root / "hf"))
    pol = Policy(
        JanusAdapter(hf), proc.tokenizer, JanusVQTokenizer(hf), janus_token_spec(proc.tokenizer, 16), processor=proc
    )
    pol.save(root / "policy")
    return root / "policy", pol


def test_the_folder_names_its_codecs_and_loads_back(janus_policy_dir):
    from interleaved_grpo.core.decoding import SamplingConfig
    from interleaved_grpo.core.policy import Policy
    from interleaved_grpo.core.trajectory import Segment

    folder, pol = janus_policy_dir
    meta = json.loads((folder / "igrpo.json").read_text())
    assert meta["image_tokenizer"] == "interleaved_grpo.core.codecs:JanusVQTokenizer"
    assert meta["model"] == "interleaved_grpo.core.model:JanusAdapter" and meta["text"] == "processor"
    back = Policy.load(folder)
    assert type(back.processor).__name__ == "JanusProcessor" and back.spec == pol.spec
    prompt = [Segment("draw a red circle .", np.full((32, 32, 3), 255, np.uint8))]
    sc = SamplingConfig(max_new_tokens=40, cfg_scale=2.0, greedy=True)
    a, b = pol.generate([prompt], sc)[0], back.generate([prompt], sc)[0]
    assert [s.text for s in a] == [s.text for s in b]
    assert all((x.image is None) == (y.image is None) for x, y in zip(a, b))
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b) if x.image is not None)


def test_igrpo_generate_answers_with_a_janus_policy(janus_policy_dir, tmp_path):
    folder, _ = janus_policy_dir
    page = tmp_path / "answer.html"
    r = run_igrpo(
        "generate",
        "--checkpoint",
        str(folder),
        "--prompt",
        "draw a red circle .",
        "--out",
        str(page),
        "--max-new-tokens",
        "60",
        "--greedy",
    )
    assert r.returncode == 0, r.stderr
    assert page.read_text().startswith("<!doctype html>")


def test_igrpo_generate_answers_with_a_transformers_checkpoint(janus_policy_dir, tmp_path):
    folder, _ = janus_policy_dir
    page = tmp_path / "answer.html"
    r = run_igrpo(
        "generate",
        "--checkpoint",
        str(folder.parent / "hf"),
        "--prompt",
        "draw a blue square .",
        "--out",
        str(page),
        "--max-new-tokens",
        "60",
    )
    assert r.returncode == 0, r.stderr
    assert "<h2>Answer</h2>" in page.read_text()


def test_a_folder_naming_a_foreign_class_is_refused(janus_policy_dir, tmp_path):
    import shutil

    folder, _ = janus_policy_dir
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    meta = json.loads((bad / "igrpo.json").read_text())
    (bad / "igrpo.json").write_text(json.dumps({**meta, "image_tokenizer": "os:system"}))
    r = run_igrpo("generate", "--checkpoint", str(bad), "--prompt", "draw .", "--out", str(tmp_path / "x.html"))
    assert r.returncode == 2 and "not one of this library's" in r.stderr
