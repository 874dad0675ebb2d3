"""Janus-Pro-1B-sized interleaved GRPO on one GPU, random weights: rollout throughput, GRPO step time and peak memory (bf16).

The shapes are Janus-Pro-1B's (DeepSeek-LLM-1.5B language model: 24 layers, width 2048, 102400 text ids; SigLIP-L vision
tower; VQ-16 tokenizer with 16384 codes and 576 codes per 384x384 picture). Weights are random, so what is measured is
speed and memory, never quality. The same library code paths as `igrpo train` are used: `generate` (the interleaved
decoder with CFG and a static KV cache), `score_tokens` through `PolicyScorer` (one forward per modality choice),
`grpo_loss`, `accelerate` with mixed precision.

    python benchmarks/janus_pro_gpu.py --out results.json          # on a GPU
    python benchmarks/janus_pro_gpu.py --size tiny                  # CPU smoke test of the same script (seconds)

Prints one line per measurement and writes all figures as JSON.
"""
import argparse, copy, json, statistics, sys, time
import torch
from interleaved_grpo.core.model import JanusAdapter, tiny_janus_config
from interleaved_grpo.core.trajectory import TokenSpec, Encoded, collate, TEXT, IMAGE, SPECIAL
from interleaved_grpo.core.decoding import generate, SamplingConfig
from interleaved_grpo.rl.grpo import GRPOConfig, grpo_loss
from interleaved_grpo.train.grpo import PolicyScorer


def pro_1b_config():
    "Janus-Pro-1B's shapes as a `JanusConfig` (vision tower and VQ-VAE are transformers' defaults, which are Janus-Pro's)."
    from transformers import JanusConfig
    return JanusConfig(text_config=dict(model_type="llama", vocab_size=102400, hidden_size=2048, intermediate_size=5632,
                                        num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=16,
                                        max_position_embeddings=16384, tie_word_embeddings=False),
                       image_token_id=100581, tie_word_embeddings=False)


def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()


def timed(f, repeats):
    "Median wall seconds of `repeats` calls after one warm-up call."
    f(); sync(); ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def peak_gib():
    return torch.cuda.max_memory_allocated() / 2 ** 30 if torch.cuda.is_available() else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["pro-1b", "tiny"], default="pro-1b")
    ap.add_argument("--rows", type=int, default=16, help="rollout rows (prompts x G)")
    ap.add_argument("--train-rows", type=int, nargs="*", default=[4, 8], help="trajectories per update (micro-batch) to try")
    ap.add_argument("--steps-per-answer", type=int, default=2, help="text+picture steps in the synthetic training trajectory")
    ap.add_argument("--text-tokens", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bf16-weights", action="store_true", help="also time rollouts with weights cast to bf16")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    res = {"size": a.size, "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__}
    import transformers; res["transformers"] = transformers.__version__
    def say(k, v, fmt=""):
        res[k] = v; print(f"{k:42s} {v:{fmt}}" if fmt else f"{k:42s} {v}", flush=True)
        if a.out: open(a.out, "w").write(json.dumps(res, indent=1))

    from transformers import JanusForConditionalGeneration
    if a.size == "pro-1b":
        cfg = pro_1b_config(); V = 102400
    else:
        cfg = tiny_janus_config("test", text_vocab_size=1000, image_vocab_size=64, image_len=16, image_size=32, max_positions=4096); V = 1000
    torch.manual_seed(0)
    with torch.device(dev): hf = JanusForConditionalGeneration(cfg)          # fp32 master weights, built on the device
    model = JanusAdapter(hf)
    N = cfg.vq_config.num_patches ** 2 if a.size == "pro-1b" else 16
    spec = TokenSpec(bos_id=V - 10, eos_id=V - 9, pad_id=V - 8, boi_id=V - 7, eoi_id=V - 6, image_len=N,
                     user_ids=(V - 5,), assistant_ids=(V - 4,))
    n_lm = sum(p.numel() for p in hf.model.language_model.parameters())
    say("params_total_M", round(sum(p.numel() for p in hf.parameters()) / 1e6, 1))
    say("params_language_model_M", round(n_lm / 1e6, 1))
    say("codes_per_picture", N)

    def prompt(end_boi=False):
        w = torch.randint(100, V - 100, (a.prompt_len,))
        ids = torch.cat([torch.tensor([spec.bos_id, spec.user_ids[0]]), w, torch.tensor([spec.assistant_ids[0]])]
                        + ([torch.tensor([spec.boi_id])] if end_boi else []))
        mod = torch.where((ids >= 100) & (ids < V - 100), TEXT, SPECIAL)
        return Encoded(ids, mod, torch.zeros(len(ids), dtype=torch.bool), [])

    # ---- rollouts: the decoder under bf16 autocast (fp32 weights, as `igrpo train --set mixed_precision=bf16`) and with
    # ---- weights cast to bf16 (inference-only copy)
    model.eval()
    pics = [prompt(True) for _ in range(a.rows)]; txts = [prompt() for _ in range(a.rows)]
    sc_img = SamplingConfig(max_new_tokens=N + 1, cfg_scale=a.cfg, max_images=1, stop_at_max_images=True)
    sc_txt = SamplingConfig(max_new_tokens=a.text_tokens, min_new_tokens=a.text_tokens, max_images=0)
    def roll(m, prompts, sc, ctx):
        def f():
            with torch.no_grad(), ctx():
                g = generate(m, prompts, spec, sc, generator=torch.Generator(device=dev).manual_seed(0))
            return g
        return f
    from contextlib import nullcontext
    autocast = (lambda: torch.autocast(dev, dtype=torch.bfloat16)) if dev == "cuda" else nullcontext
    g = roll(model, pics, sc_img, autocast)(); assert int(g.lengths.min()) == N + 1, g.lengths
    for name, m, ctx in (("autocast_fp32_weights", model, autocast), ("bf16_weights", None, nullcontext)):
        if m is None:
            if dev != "cuda" or not a.bf16_weights: continue
            m = JanusAdapter(copy.deepcopy(hf).to(torch.bfloat16)).eval()
        torch.cuda.reset_peak_memory_stats() if dev == "cuda" else None
        t_img = timed(roll(m, pics, sc_img, ctx), a.repeats)
        t_txt = timed(roll(m, txts, sc_txt, ctx), a.repeats)
        say(f"rollout_{name}_picture_codes_per_s", round(a.rows * N / t_img), ",")
        say(f"rollout_{name}_picture_s_per_batch", round(t_img, 2))
        say(f"rollout_{name}_text_tokens_per_s", round(a.rows * a.text_tokens / t_txt), ",")
        say(f"rollout_{name}_peak_GiB", round(peak_gib(), 2))
        traj_s = a.steps_per_answer * (t_img + t_txt)             # one answer: text then a picture, steps_per_answer times
        say(f"rollout_{name}_est_s_per_{a.rows}_answers", round(traj_s, 2))
        if m is not model: del m; torch.cuda.empty_cache()

    # ---- GRPO update on synthetic trajectories of a realistic shape:
    # ---- prompt, then steps_per_answer x (text_tokens text, <boi>, N codes, <eoi>), then <eos>
    def trajectory():
        p = prompt(); ids, mod, ans = [p.ids], [p.modality], [p.is_answer]
        for _ in range(a.steps_per_answer):
            t = torch.randint(100, V - 100, (a.text_tokens,)); c = torch.randint(0, cfg.vq_config.num_embeddings, (N,))
            ids += [t, torch.tensor([spec.boi_id]), c, torch.tensor([spec.eoi_id])]
            mod += [torch.full((a.text_tokens,), TEXT), torch.tensor([SPECIAL]), torch.full((N,), IMAGE), torch.tensor([SPECIAL])]
        ids.append(torch.tensor([spec.eos_id])); mod.append(torch.tensor([SPECIAL]))
        ids, mod = torch.cat(ids), torch.cat(mod)
        is_ans = torch.zeros(len(ids), dtype=torch.bool); is_ans[len(p.ids):] = True
        return Encoded(ids, mod, is_ans, [len(ids) - 1])
    from accelerate import Accelerator
    say("train_trajectory_tokens", len(trajectory()))
    for rows in a.train_rows:
        for mode in ("cfg_detached_uncond", "no_cfg"):
            for ckpt in (False, True):
                key = f"train_rows{rows}_{mode}_{'gradckpt' if ckpt else 'nockpt'}"
                acc = Accelerator(mixed_precision="bf16" if dev == "cuda" else "no")
                pol = copy.deepcopy(hf).train(); ref = copy.deepcopy(hf).eval().requires_grad_(False).to(
                    torch.bfloat16 if dev == "cuda" else torch.float32)
                if ckpt: pol.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
                gcfg = GRPOConfig(image_logprob=mode, cfg_scale=a.cfg, beta=0.04)
                scorer = PolicyScorer(JanusAdapter(pol), gcfg, spec.pad_id)
                ref_scorer = PolicyScorer(JanusAdapter(ref), gcfg, spec.pad_id)
                opt = torch.optim.AdamW([p for p in scorer.parameters() if p.requires_grad], lr=1e-6)
                scorer, opt = acc.prepare(scorer, opt)
                b = collate([trajectory() for _ in range(rows)], spec.pad_id).to(dev)
                lmask = b.is_answer[:, 1:] & (b.modality[:, 1:] != SPECIAL); A = torch.randn(lmask.shape, device=dev)
                is_img = b.modality[:, 1:] == IMAGE
                args = (b.ids, b.modality, b.attention_mask, b.is_answer)
                def step():
                    with torch.no_grad(), (autocast() if dev == "cuda" else nullcontext()):
                        ref_lp = ref_scorer(*args, return_entropy=False)
                    lp, ent = scorer(*args)
                    loss, met = grpo_loss(lp, lp.detach(), A, lmask, gcfg, ref_logp=ref_lp, is_image=is_img)
                    acc.backward(loss); acc.clip_grad_norm_(scorer.parameters(), 1.0); opt.step(); opt.zero_grad()
                if dev == "cuda": torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
                try:
                    t = timed(step, a.repeats)
                    say(f"{key}_step_s", round(t, 3))
                    say(f"{key}_tokens_per_s", round(rows * len(b.ids[0]) / t), ",")
                    say(f"{key}_peak_GiB", round(peak_gib(), 2))
                except torch.OutOfMemoryError:
                    say(f"{key}_step_s", "OOM")
                del step, scorer, ref_scorer, opt, pol, ref, acc
                if dev == "cuda": torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
