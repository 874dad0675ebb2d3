"""Rollout speed: the project's interleaved decoder against transformers' own Janus generation loops.

Same randomly initialised tiny Janus, same batch, same CFG scale, same number of new tokens:
  (a) pictures: `generate` (ours) starting in image mode vs
  `JanusForConditionalGeneration.generate(generation_mode="image")`;
  (b) text:     `generate` (ours) with pictures disabled vs `GenerationMixin.generate` on the same prompt embeddings.
Prints tokens per second for each and the ratio ours / transformers (above 1: ours is faster).

    python benchmarks/rollout_speed.py                       # toy model, batch 32, CFG 3, 16 codes per picture
    python benchmarks/rollout_speed.py --image-len 64 --size toy --batch 32
    python benchmarks/rollout_speed.py --compile             # our step through torch.compile (compiled once, first)
    python benchmarks/rollout_speed.py --group 4             # as in GRPO: 8 prompts, each sampled 4 times
"""

import argparse, statistics, time
import torch
from interleaved_grpo.core.model import build_tiny_janus
from interleaved_grpo.core.trajectory import TokenSpec, Encoded, TEXT, SPECIAL
from interleaved_grpo.core.decoding import generate, SamplingConfig


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="toy")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cfg", type=float, default=3.0)
    ap.add_argument("--image-len", type=int, default=16)
    ap.add_argument("--text-tokens", type=int, default=48)
    ap.add_argument("--prompt-len", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--group", type=int, default=1, help="rows per distinct prompt (GRPO's G); batch = prompts x G")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--cache", default="static", choices=("static", "dynamic"), help="our decoder's key/value cache")
    ap.add_argument("--compile", action="store_true", help="our decoding step through torch.compile (static cache)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    V, K = 64, 64
    spec = TokenSpec(
        bos_id=2, eos_id=3, pad_id=0, boi_id=4, eoi_id=5, image_len=a.image_len, user_ids=(6,), assistant_ids=(7,)
    )
    image_size = 8 * int(a.image_len**0.5)
    m = build_tiny_janus(
        a.size, text_vocab_size=V, image_vocab_size=K, image_len=a.image_len, image_size=image_size
    ).eval()
    hf = m.model
    if a.group < 1 or a.batch % a.group:
        ap.error(f"--group must divide --batch ({a.batch}), got {a.group}")
    words = torch.randint(8, V, (a.batch // a.group, a.prompt_len)).repeat_interleave(a.group, 0)
    ids = torch.cat([torch.full((a.batch, 1), spec.bos_id), words, torch.full((a.batch, 1), 7)], 1)  # (B, T)
    img_ids = torch.cat([ids, torch.full((a.batch, 1), spec.boi_id)], 1)
    mk = lambda row: Encoded(row, torch.where(row >= 8, TEXT, SPECIAL), torch.zeros(len(row), dtype=torch.bool), [])

    def timed(f1, f2):
        "Median seconds of f1 and f2, calls alternated so that drift in machine speed hits both alike."
        f1()
        f2()  # warm-up runs
        t1, t2 = [], []
        for _ in range(a.repeats):
            for f, ts in ((f1, t1), (f2, t2)):
                t = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t)
        return statistics.median(t1), statistics.median(t2)

    # (a) pictures
    ours_img = lambda: generate(
        m,
        [mk(r) for r in img_ids],
        spec,
        SamplingConfig(
            max_new_tokens=a.image_len + 1,
            cfg_scale=a.cfg,
            max_images=1,
            stop_at_max_images=True,
            cache=a.cache,
            compile=a.compile,
        ),
    )
    g = ours_img()
    assert int(g.lengths.min()) == a.image_len + 1
    from transformers import GenerationConfig

    gcfg = lambda: GenerationConfig(
        do_sample=True,
        guidance_scale=a.cfg,
        pad_token_id=spec.pad_id,
        bos_token_id=spec.bos_id,
        generation_kwargs={"boi_token_id": spec.boi_id},
        max_new_tokens=a.image_len,
    )
    hf_img = lambda: hf.generate(
        img_ids, attention_mask=torch.ones_like(img_ids), generation_mode="image", generation_config=gcfg()
    )
    assert hf_img().shape == (a.batch, a.image_len)
    n_img = a.batch * a.image_len
    t_ours_img, t_hf_img = timed(ours_img, hf_img)

    # (b) text
    n_txt = a.batch * a.text_tokens
    sc = SamplingConfig(
        max_new_tokens=a.text_tokens, min_new_tokens=a.text_tokens, max_images=0, cache=a.cache, compile=a.compile
    )
    ours_txt = lambda: generate(m, [mk(r) for r in ids], spec, sc)
    assert int(ours_txt().lengths.min()) == a.text_tokens
    with torch.no_grad():
        emb = m.embed(ids, torch.where(ids >= 8, TEXT, SPECIAL))
    hf_txt = lambda: hf.generate(
        inputs_embeds=emb,
        attention_mask=torch.ones_like(ids),
        do_sample=True,
        max_new_tokens=a.text_tokens,
        min_new_tokens=a.text_tokens,
        pad_token_id=spec.pad_id,
        eos_token_id=spec.eos_id,
    )
    assert hf_txt().shape[1] == a.text_tokens
    t_ours_txt, t_hf_txt = timed(ours_txt, hf_txt)

    print(
        f"model={a.size} batch={a.batch} cfg={a.cfg} image_len={a.image_len} text_tokens={a.text_tokens} "
        f"threads={torch.get_num_threads()} cache={a.cache} compile={a.compile} group={a.group}"
    )
    print(
        f"(a) pictures  ours {n_img / t_ours_img:9.0f} tok/s   transformers {n_img / t_hf_img:9.0f} tok/s   ratio "
        f"ours/transformers {t_hf_img / t_ours_img:.2f}"
    )
    print(
        f"(b) text      ours {n_txt / t_ours_txt:9.0f} tok/s   transformers {n_txt / t_hf_txt:9.0f} tok/s   ratio "
        f"ours/transformers {t_hf_txt / t_ours_txt:.2f}"
    )


if __name__ == "__main__":
    main()
