"""Peak memory and time of token log-probs at Janus-Pro-1B's sizes: the plain computation (all positions through the
heads at once, logits kept for backward) against the chunked one (`chunk_size` positions at a time, logits recomputed
in backward). Each variant runs in a fresh process; the figure is the growth of the peak resident memory during one
forward + backward of `modality_logprobs` (entropy included, as GRPO logs it), with the heads frozen so that only the
log-prob computation's own memory is counted.

    python benchmarks/logprob_memory.py                       # 2,048 tokens, half of them image codes, chunk 64
    python benchmarks/logprob_memory.py --tokens 1024 --chunk 128
"""

import argparse, json, os, resource, subprocess, sys, time


def one(a) -> dict:
    import torch
    from interleaved_grpo.core.model import modality_logprobs

    torch.manual_seed(0)
    text_head = torch.nn.Linear(a.hidden, a.text_vocab, bias=False).requires_grad_(False)
    image_head = torch.nn.Linear(a.hidden, a.image_vocab, bias=False).requires_grad_(False)
    hid = torch.randn(1, a.tokens, a.hidden, requires_grad=True)
    is_img = torch.zeros(1, a.tokens, dtype=torch.bool)
    is_img[:, a.tokens // 2 :] = True  # half the answer is image codes
    tgt = torch.where(
        is_img, torch.randint(0, a.image_vocab, (1, a.tokens)), torch.randint(0, a.text_vocab, (1, a.tokens))
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    lp, ent = modality_logprobs(hid, tgt, is_img, text_head, image_head, 1.0, True, chunk_size=a.chunk)
    (lp.sum() + 0.01 * ent.sum()).backward()
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(
        chunk=a.chunk,
        peak_extra_mb=round((peak - before) / 1024, 1),
        seconds=round(secs, 2),
        checksum=float(hid.grad.double().sum()),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--text-vocab", type=int, default=102400)
    ap.add_argument("--image-vocab", type=int, default=16384)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a)))
        return
    rows = []
    for chunk in (0, a.chunk):
        args = [
            sys.executable,
            __file__,
            "--one",
            "--tokens",
            str(a.tokens),
            "--hidden",
            str(a.hidden),
            "--text-vocab",
            str(a.text_vocab),
            "--image-vocab",
            str(a.image_vocab),
            "--chunk",
            str(chunk),
        ]
        # a fixed mmap threshold: glibc then returns every large freed block at once, so the peak resident size follows
        # the live tensors instead of the allocator's reuse pattern
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "1048576"}
        out = subprocess.run(args, capture_output=True, text=True, check=True, env=env).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    naive, lean = rows
    print(f"{a.tokens} tokens (half image codes), hidden {a.hidden}, vocab {a.text_vocab} text + {a.image_vocab} image")
    print(f"naive : peak +{naive['peak_extra_mb']:8.1f} MB  {naive['seconds']:6.2f} s")
    print(f"chunk {a.chunk}: peak +{lean['peak_extra_mb']:8.1f} MB  {lean['seconds']:6.2f} s")
    print(
        f"lean / naive peak memory: {lean['peak_extra_mb'] / naive['peak_extra_mb']:.3f}   "
        f"time: {lean['seconds'] / naive['seconds']:.2f}x   "
        f"same gradient: {abs(lean['checksum'] - naive['checksum']) <= 1e-3 * max(1.0, abs(naive['checksum']))}"
    )


if __name__ == "__main__":
    main()
