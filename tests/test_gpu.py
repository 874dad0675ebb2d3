"""What runs only on a GPU: CUDA-graph decoding (the default there) against eager under greedy sampling, the bfloat16
rollout copy, and the peak-memory figure the loops report. `pytest -m gpu tests/test_gpu.py`; on a machine without
CUDA every test skips with a message. `benchmarks/janus_pro_gpu.py` runs this file first whenever it runs."""

import pytest
import torch

from interleaved_grpo.core.decoding import SamplingConfig, generate
from interleaved_grpo.core.model import build_tiny_janus
from interleaved_grpo.core.trajectory import SPECIAL, TEXT, Encoded, TokenSpec

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run by benchmarks/janus_pro_gpu.py)"),
]
SPEC = TokenSpec(bos_id=2, eos_id=3, pad_id=0, boi_id=4, eoi_id=5, image_len=16, user_ids=(6,), assistant_ids=(7,))


def _prompts(n: int, picture: bool, seed: int) -> list:
    g = torch.Generator().manual_seed(seed)
    rows = []
    for i in range(n):
        words = torch.randint(8, 64, (6 + i % 3,), generator=g)  # ragged: left padding inside the batch
        row = torch.cat([torch.tensor([2]), words, torch.tensor([7] + ([4] if picture else []))])
        rows.append(Encoded(row, torch.where(row >= 8, TEXT, SPECIAL), torch.zeros(len(row), dtype=torch.bool), []))
    return rows


def _model():
    torch.manual_seed(0)
    return build_tiny_janus("test", text_vocab_size=64, image_vocab_size=64, image_len=16, image_size=32).cuda().eval()


@pytest.mark.parametrize("picture", [True, False], ids=["picture with CFG", "text"])
def test_cuda_graph_decoding_gives_the_eager_answers(picture):
    m = _model()
    if picture:
        sc = SamplingConfig(max_new_tokens=17, cfg_scale=3.0, greedy=True, max_images=1, stop_at_max_images=True)
    else:
        sc = SamplingConfig(max_new_tokens=24, greedy=True, max_images=0)
    prompts = _prompts(4, picture, 0)
    graphed = generate(m, prompts, SPEC, sc)
    eager = generate(m, prompts, SPEC, SamplingConfig(**{**sc.__dict__, "cuda_graphs": False}))
    assert torch.equal(graphed.lengths.cpu(), eager.lengths.cpu())
    for i in range(len(prompts)):
        n = int(eager.lengths[i])
        assert graphed.ids[i, :n].tolist() == eager.ids[i, :n].tolist()


def test_the_bf16_rollout_copy_follows_the_trained_weights():
    from interleaved_grpo.core.policy import Policy
    from interleaved_grpo.train.grpo import TrainConfig
    from interleaved_grpo.train.setup import RolloutWeights

    m = _model()
    policy = Policy(m, None, None, SPEC)
    cfg = TrainConfig(mixed_precision="bf16")
    copy = RolloutWeights.for_run(policy, cfg, "cuda")
    assert copy is not None and all(p.dtype == torch.bfloat16 for p in copy.model.parameters())
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.01)
    copy.sync(m)
    for (name, p), q in zip(m.named_parameters(), copy.model.parameters()):
        assert torch.equal(q, p.to(torch.bfloat16)), name


def test_peak_memory_is_reported_in_gib():
    from interleaved_grpo.train.checkpoint import peak_memory

    torch.cuda.reset_peak_memory_stats()
    x = torch.empty(256, 2**20, dtype=torch.uint8, device="cuda")  # 0.25 GiB
    peak = peak_memory(torch.device("cuda"))["peak_mem_GiB"]
    del x
    assert 0.25 <= peak < 1.0
