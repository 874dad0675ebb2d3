"""`SamplingConfig(compile=True)`: the decoding step through torch.compile gives the eager step's greedy answers, for
pictures with guidance and for text, at two prompt lengths (the second reuses the dynamic-shape compilation)."""

import shutil

import pytest
import torch

from interleaved_grpo.core.decoding import SamplingConfig, generate
from interleaved_grpo.core.errors import IGRPOError
from interleaved_grpo.core.model import build_tiny_janus
from interleaved_grpo.core.trajectory import SPECIAL, TEXT, Encoded, TokenSpec

SPEC = TokenSpec(bos_id=2, eos_id=3, pad_id=0, boi_id=4, eoi_id=5, image_len=16, user_ids=(6,), assistant_ids=(7,))


def _prompts(n, length, picture, seed):
    g = torch.Generator().manual_seed(seed)
    rows = []
    for i in range(n):
        words = torch.randint(8, 64, (length + i % 3,), generator=g)  # ragged: left padding inside the batch
        row = torch.cat([torch.tensor([2]), words, torch.tensor([7] + ([4] if picture else []))])
        rows.append(Encoded(row, torch.where(row >= 8, TEXT, SPECIAL), torch.zeros(len(row), dtype=torch.bool), []))
    return rows


@pytest.mark.skipif(
    shutil.which("c++") is None and shutil.which("g++") is None, reason="torch.compile needs a C++ compiler"
)
def test_compiled_step_gives_the_eager_answers():
    torch.manual_seed(0)
    m = build_tiny_janus("test", text_vocab_size=64, image_vocab_size=64, image_len=16, image_size=32).eval()
    cases = [
        (SamplingConfig(max_new_tokens=17, cfg_scale=3.0, greedy=True, max_images=1, stop_at_max_images=True), True),
        (SamplingConfig(max_new_tokens=24, greedy=True, max_images=0), False),
    ]
    for sc, picture in cases:
        for length, seed in ((6, 0), (11, 1)):
            prompts = _prompts(4, length, picture, seed)
            eager = generate(m, prompts, SPEC, sc)
            compiled = generate(m, prompts, SPEC, SamplingConfig(**{**sc.__dict__, "compile": True}))
            assert torch.equal(eager.lengths, compiled.lengths)
            for i in range(len(prompts)):
                n = int(eager.lengths[i])
                assert eager.ids[i, :n].tolist() == compiled.ids[i, :n].tolist()
                assert eager.modality[i, :n].tolist() == compiled.modality[i, :n].tolist()


def test_compile_needs_the_static_cache():
    with pytest.raises(IGRPOError, match="needs cache='static'"):
        SamplingConfig(compile=True, cache="dynamic")


def test_compile_rollouts_reaches_the_decoder():
    from types import SimpleNamespace

    from interleaved_grpo.train.data import PromptItem
    from interleaved_grpo.train.grpo import TrainConfig, rollout

    seen = []

    class Recorder:  # a stand-in policy: records the sampling settings it is asked to use
        spec = SPEC
        model = torch.nn.Linear(1, 1)

        def sample(self, prompts, sc, seed=None, row_seeds=None):
            seen.append(sc)
            gen = SimpleNamespace(finished=torch.ones(len(prompts), dtype=torch.bool))
            return gen, [[] for _ in prompts]

    item = PromptItem([], None, 1, "x")
    for flag in (False, True):
        rollout(Recorder(), [item], TrainConfig(num_generations=2, compile_rollouts=flag), max_steps=1)
    assert [sc.compile for sc in seen] == [False, True]
