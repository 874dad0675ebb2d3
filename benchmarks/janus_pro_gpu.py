"""Janus-Pro-1B-sized interleaved GRPO on one GPU, random weights: decoding step time, GRPO update throughput and MFU.

The shapes are Janus-Pro-1B's (DeepSeek-LLM-1.5B language model: 24 layers, width 2048, 102,400 text ids; VQ-16
tokenizer with 16,384 codes and 576 codes per 384x384 picture). Weights are random, so what is measured is speed and
memory, never quality. The library's own code paths are used: `generate` (the interleaved decoder, CFG, static cache;
eager, and with each step replayed as a CUDA graph), `PolicyScorer` + `grpo_loss` under `accelerate` bf16 autocast.

    python benchmarks/janus_pro_gpu.py --out results.json          # on a GPU (about 2 minutes)
    python benchmarks/janus_pro_gpu.py --size tiny                  # CPU smoke test of the same script (seconds)

Prints one line per measurement and writes all figures as JSON (after every line, so a killed run keeps its figures).
MFU counts model FLOPs only: 6 N per trained token (forward + backward), 2 N per token for each no-grad forward (the
reference; with CFG-aware image scoring also the unconditional sequence of the policy and of the reference), N the
language model's matmul parameters
(embeddings excluded, heads included), attention's 12 L d T per token added; recomputation (gradient checkpointing,
chunked heads) is not counted.
"""

import argparse, copy, json, statistics, sys, time
from contextlib import nullcontext
import torch
from interleaved_grpo.core.model import JanusAdapter, tiny_janus_config
from interleaved_grpo.core.trajectory import TokenSpec, Encoded, collate, TEXT, IMAGE, SPECIAL
from interleaved_grpo.core.decoding import generate, SamplingConfig
from interleaved_grpo.rl.grpo import grpo_loss
from interleaved_grpo.train.grpo import TrainConfig
from interleaved_grpo.train.setup import PolicyScorer
from interleaved_grpo.train.warmup import compile_scorer
from interleaved_grpo.train.memory import janus_pro_config

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense bf16 tensor-core FLOP/s


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(f, repeats, warm=None):
    "Median wall seconds of `repeats` calls after one warm-up call (of `warm` if given, else of `f`)."
    (warm or f)()
    sync()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        sync()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def peak_gib():
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else float("nan")


def matmul_params(hf) -> int:
    "Parameters that multiply activations per token: the language model without its embeddings, plus both heads."
    lm = hf.model.language_model
    n = sum(p.numel() for p in lm.parameters()) - lm.embed_tokens.weight.numel()
    return n + hf.lm_head.weight.numel() + sum(p.numel() for p in hf.model.generation_head.parameters())


def gpu_tests() -> str:
    "`pytest -m gpu tests/test_gpu.py` (CUDA graphs against eager, the bf16 rollout copy, peak memory): its last line."
    import subprocess
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1] / "tests" / "test_gpu.py"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", str(tests)], capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    return lines[-1] if lines else f"pytest exited {r.returncode}: {r.stderr[-300:]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["pro-1b", "tiny"], default="pro-1b")
    ap.add_argument("--rows", type=int, nargs="*", default=[16, 64], help="rollout rows (prompts x G) to time")
    ap.add_argument(
        "--train",
        nargs="*",
        default=[
            "8:no_cfg:nockpt:0",
            "8:no_cfg:nockpt:0:compile",
            "8:cfg_detached_uncond:gradckpt:128",
            "16:cfg_detached_uncond:gradckpt:128",
        ],
        help="update settings to time, each rows:image_logprob:nockpt|gradckpt:logprob_chunk_size[:compile] "
        "(compile: both scorers through `compile_scorer`, as `torch_compile=true` does)",
    )
    ap.add_argument("--steps-per-answer", type=int, default=2, help="text+picture steps in the synthetic trajectory")
    ap.add_argument("--text-tokens", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--decode-variants", nargs="*", default=None, help="decoding variants to time (default: all)")
    ap.add_argument("--old-decoder", default=None, help="a file holding an earlier `generate` to time beside this one")
    ap.add_argument("--skip-gpu-tests", action="store_true", help="do not run `pytest -m gpu tests/test_gpu.py` first")
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    import transformers

    res = {
        "size": a.size,
        "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }

    def say(k, v):
        res[k] = v
        print(f"{k:52s} {v:,}" if isinstance(v, (int, float)) else f"{k:52s} {v}", flush=True)
        if a.out:
            open(a.out, "w").write(json.dumps(res, indent=1))

    if dev == "cuda" and not a.skip_gpu_tests:
        say("gpu_tests", gpu_tests())

    from transformers import JanusForConditionalGeneration

    if a.size == "pro-1b":
        cfg, V = janus_pro_config("Janus-Pro-1B"), 102400
    else:
        cfg, V = (
            tiny_janus_config(
                "test", text_vocab_size=1000, image_vocab_size=64, image_len=16, image_size=32, max_positions=4096
            ),
            1000,
        )
    torch.manual_seed(0)
    with torch.device(dev):
        hf = JanusForConditionalGeneration(cfg)  # fp32 master weights, built on the device
    N = cfg.vision_config.num_image_tokens
    spec = TokenSpec(
        bos_id=V - 10,
        eos_id=V - 9,
        pad_id=V - 8,
        boi_id=V - 7,
        eoi_id=V - 6,
        image_len=N,
        user_ids=(V - 5,),
        assistant_ids=(V - 4,),
    )
    n_mm = matmul_params(hf)
    say("params_total_M", round(sum(p.numel() for p in hf.parameters()) / 1e6, 1))
    say("params_matmul_M", round(n_mm / 1e6, 1))
    say("codes_per_picture", N)

    def prompt(end_boi=False):
        w = torch.randint(100, V - 100, (a.prompt_len,))
        ids = torch.cat(
            [torch.tensor([spec.bos_id, spec.user_ids[0]]), w, torch.tensor([spec.assistant_ids[0]])]
            + ([torch.tensor([spec.boi_id])] if end_boi else [])
        )
        mod = torch.where((ids >= 100) & (ids < V - 100), TEXT, SPECIAL)
        return Encoded(ids, mod, torch.zeros(len(ids), dtype=torch.bool), [])

    # ---- decoding: one picture (N codes + <eoi>) per row with CFG; bf16 weights (the rollout copy) eager and as a
    # ---- replayed CUDA graph, and fp32 weights under autocast as a CUDA graph
    autocast = (lambda: torch.autocast(dev, dtype=torch.bfloat16)) if dev == "cuda" else nullcontext
    model = JanusAdapter(hf).eval()
    m16 = JanusAdapter(copy.deepcopy(hf).to(torch.bfloat16)).eval() if dev == "cuda" else model
    variants = [
        ("eager_bf16", m16, nullcontext, False, generate),
        ("graphs_bf16", m16, nullcontext, True, generate),
        ("graphs_autocast_fp32", model, autocast, True, generate),
    ]
    if a.old_decoder:  # the decoder before this version, loaded from a file
        import importlib.util

        spec_ = importlib.util.spec_from_file_location("old_decoding", a.old_decoder)
        old = importlib.util.module_from_spec(spec_)
        sys.modules["old_decoding"] = old
        spec_.loader.exec_module(old)
        variants += [
            ("old_autocast_fp32", model, autocast, False, old.generate),
            ("old_bf16", m16, nullcontext, False, old.generate),
        ]
    if a.decode_variants is not None:
        variants = [v for v in variants if v[0] in a.decode_variants]
    for rows in a.rows:
        pics = [prompt(True) for _ in range(rows)]
        for name, m, ctx, graphs, gen_fn in variants:
            sc = SamplingConfig(max_new_tokens=N + 1, cfg_scale=a.cfg, max_images=1, stop_at_max_images=True)
            if gen_fn is generate:
                sc.cuda_graphs = graphs

            def roll(n=N + 1):
                sc.max_new_tokens = n
                with ctx():
                    return gen_fn(m, pics, spec, sc, row_seeds=list(range(rows)))

            try:
                if dev == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                t = timed(roll, a.repeats, warm=lambda: roll(16))
                g = roll()
                assert int(g.lengths.min()) == N + 1, g.lengths
                say(f"decode_rows{rows}_{name}_ms_per_step", round(1000 * t / (N + 1), 2))
                say(f"decode_rows{rows}_{name}_codes_per_s", round(rows * N / t))
                say(f"decode_rows{rows}_{name}_peak_GiB", peak_gib())
            except Exception as e:  # keep going: the other figures still count
                say(f"decode_rows{rows}_{name}_error", f"{type(e).__name__}: {str(e)[:300]}")
    if a.rows:  # same codes eager and graphed; text decoding
        g_a = generate(
            m16,
            pics[:4],
            spec,
            SamplingConfig(
                max_new_tokens=N + 1, cfg_scale=a.cfg, max_images=1, stop_at_max_images=True, cuda_graphs=False
            ),
            row_seeds=list(range(len(pics[:4]))),
        )
        g_b = generate(
            m16,
            pics[:4],
            spec,
            SamplingConfig(
                max_new_tokens=N + 1, cfg_scale=a.cfg, max_images=1, stop_at_max_images=True, cuda_graphs=True
            ),
            row_seeds=list(range(len(pics[:4]))),
        )
        say("graphs_equal_eager_codes_share", round(float((g_a.ids == g_b.ids).float().mean()), 4))
        txts = [prompt() for _ in range(a.rows[0])]
        for name, graphs in (("eager_bf16", False), ("graphs_bf16", True)):
            sc = SamplingConfig(
                max_new_tokens=a.text_tokens, min_new_tokens=a.text_tokens, max_images=0, cuda_graphs=graphs
            )
            t = timed(lambda: generate(m16, txts, spec, sc, row_seeds=list(range(len(txts)))), a.repeats)
            say(f"text_rows{len(txts)}_{name}_tokens_per_s", round(len(txts) * a.text_tokens / t))
    if m16 is not model:
        del m16
    del model
    if dev == "cuda":
        torch.cuda.empty_cache()

    # ---- GRPO update on synthetic trajectories of a realistic shape:
    # ---- prompt, then steps_per_answer x (text_tokens text, <boi>, N codes, <eoi>), then <eos>
    def trajectory():
        p = prompt()
        ids, mod = [p.ids], [p.modality]
        for _ in range(a.steps_per_answer):
            t = torch.randint(100, V - 100, (a.text_tokens,))
            c = torch.randint(0, cfg.vq_config.num_embeddings, (N,))
            ids += [t, torch.tensor([spec.boi_id]), c, torch.tensor([spec.eoi_id])]
            mod += [
                torch.full((a.text_tokens,), TEXT),
                torch.tensor([SPECIAL]),
                torch.full((N,), IMAGE),
                torch.tensor([SPECIAL]),
            ]
        ids.append(torch.tensor([spec.eos_id]))
        mod.append(torch.tensor([SPECIAL]))
        ids, mod = torch.cat(ids), torch.cat(mod)
        is_ans = torch.zeros(len(ids), dtype=torch.bool)
        is_ans[len(p.ids) :] = True
        return Encoded(ids, mod, is_ans, [len(ids) - 1])

    from accelerate import Accelerator

    T = len(trajectory())
    L, D = cfg.text_config.num_hidden_layers, cfg.text_config.hidden_size
    say("train_trajectory_tokens", T)
    peak = next((v for k, v in PEAK_BF16.items() if k in res["device"]), None)
    for spec_s in a.train:
        rows, mode, ckpt, chunk, *more = spec_s.split(":")
        rows, chunk, ckpt, comp = int(rows), int(chunk), ckpt == "gradckpt", more == ["compile"]
        key = f"train_rows{rows}_{mode}_{'gradckpt' if ckpt else 'nockpt'}_chunk{chunk}" + ("_compiled" if comp else "")
        acc = Accelerator(mixed_precision="bf16" if dev == "cuda" else "no")
        pol = copy.deepcopy(hf).train()
        ref = copy.deepcopy(hf).eval().requires_grad_(False).to(torch.bfloat16 if dev == "cuda" else torch.float32)
        if ckpt:
            pol.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        tcfg = TrainConfig(image_logprob=mode, cfg_scale=a.cfg, beta=0.04, logprob_chunk_size=chunk)
        scorer = PolicyScorer(JanusAdapter(pol), tcfg, spec.pad_id)
        ref_scorer = PolicyScorer(JanusAdapter(ref), tcfg, spec.pad_id)
        if comp:  # the first (untimed) call of `timed` compiles
            compile_scorer(scorer, dev)
            compile_scorer(ref_scorer, dev)
        opt = torch.optim.AdamW([p for p in scorer.parameters() if p.requires_grad], lr=1e-6)
        scorer, opt = acc.prepare(scorer, opt)
        b = collate([trajectory() for _ in range(rows)], spec.pad_id).to(dev)
        lmask = b.is_answer[:, 1:] & (b.modality[:, 1:] != SPECIAL)
        A = torch.randn(lmask.shape, device=dev)
        is_img = b.modality[:, 1:] == IMAGE
        args = (b.ids, b.modality, b.attention_mask, b.is_answer)

        def step():
            with torch.no_grad(), autocast():
                ref_lp = ref_scorer(*args, return_entropy=False)
            lp, ent = scorer(*args)
            loss, met = grpo_loss(lp, lp.detach(), A, lmask, tcfg, ref_logp=ref_lp, is_image=is_img)
            acc.backward(loss)
            acc.clip_grad_norm_(scorer.parameters(), 1.0)
            opt.step()
            opt.zero_grad()

        if dev == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        try:
            t = timed(step, a.repeats)
            tok_s = rows * T / t
            say(f"{key}_step_s", round(t, 3))
            say(f"{key}_tokens_per_s", round(tok_s))
            say(f"{key}_peak_GiB", peak_gib())
            fwd = 1 if mode == "no_cfg" else 3  # reference; with CFG scoring also both unconditional sequences
            per_tok = 6 * n_mm + 12 * L * D * T + fwd * (2 * n_mm + 4 * L * D * T)
            if peak:
                say(f"{key}_mfu", round(per_tok * tok_s / peak, 3))
        except torch.OutOfMemoryError:
            say(f"{key}_step_s", "OOM")
        step = scorer = ref_scorer = opt = pol = ref = acc = None  # free this setting's model copies before the next
        if dev == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
