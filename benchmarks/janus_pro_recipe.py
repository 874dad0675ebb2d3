"""The Janus-Pro-1B recipe (`configs/janus-pro-1b/`) run as a GPU user starts it, on a model with Janus-Pro-1B's shapes
and
random weights: `igrpo warmup --config` then `igrpo train --config --init` for a few steps each. Records each
command's wall time, the warm-up's step time and tokens/s, and per GRPO step the step time, the share spent in rollouts,
rollout tokens/s and peak GPU memory.

    python benchmarks/janus_pro_recipe.py --out DIR                  # on a GPU (a few minutes)
    python benchmarks/janus_pro_recipe.py --out DIR --size tiny      # CPU smoke test of the same script

Everything is built locally, nothing is downloaded: the model folder (random weights saved in bf16, as the Hub's
checkpoints are) with a `JanusProcessor` over a word-level vocabulary as large as the model's; warm-up files in the
three documented formats and the prompts of `data/prompts.example.jsonl` (pictures resized by the processor); a tiny
open_clip model (config JSON + safetensors) for r_v; and an OpenAI-compatible critic on loopback for r_t that answers
a fixed score. The shipped configs are used as they are except for paths, step counts and the settings named in
`--warmup-set` / `--train-set` (printed in the results). Speed and memory are measured, never quality.
"""

import argparse, json, shutil, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


class FixedCritic(BaseHTTPRequestHandler):
    "An OpenAI-compatible chat endpoint that gives every answer the score 5."

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        out = json.dumps({"choices": [{"message": {"content": "### Score\n5"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


def build_model(folder: Path, size: str):
    "A Janus model with Janus-Pro-1B's or -7B's shapes (or a tiny one) and random weights, saved with its processor."
    from transformers import JanusForConditionalGeneration
    from interleaved_grpo.core.codecs import tiny_janus_processor, JANUS_SPECIAL
    from interleaved_grpo.core.model import tiny_janus_config
    from interleaved_grpo.train.memory import janus_pro_config

    words = []
    for line in (DATA / "prompts.example.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for seg in rec["prompt"] + rec.get("reference", []):
            words += (seg.get("text") or "").replace(".", " . ").replace(",", " , ").replace(":", " : ").split()
    words += ["what", "is", "there", "?", "a", "circle", "draw", "red"]
    V = 102400 if size.startswith("pro-") else 2000
    words = list(dict.fromkeys(words))
    words += [f"w{i}" for i in range(V - len(JANUS_SPECIAL) - len(words))]
    side = (384, 576) if size.startswith("pro-") else (32, 16)
    proc = tiny_janus_processor(words, image_size=side[0], image_len=side[1])
    tok = proc.tokenizer
    if size.startswith("pro-"):
        name = {"pro-1b": "Janus-Pro-1B", "pro-7b": "Janus-Pro-7B"}[size]
        cfg = janus_pro_config(name, len(tok), tok.convert_tokens_to_ids("<image_placeholder>"))
    else:
        cfg = tiny_janus_config("test", text_vocab_size=len(tok), image_vocab_size=64, max_positions=4096)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        hf = JanusForConditionalGeneration(cfg)
    hf.to(torch.bfloat16).save_pretrained(str(folder))
    proc.save_pretrained(str(folder))
    return sum(p.numel() for p in hf.parameters())


def build_data(folder: Path):
    "Warm-up files in the three formats and a prompts file, pictures beside them."
    recs = [json.loads(line) for line in (DATA / "prompts.example.jsonl").read_text().splitlines()]
    shutil.copytree(DATA / "images", folder / "images", dirs_exist_ok=True)
    many = [{**r, "id": f"{r['id']}-{k}"} for k in range(6) for r in recs]  # 18 prompts: enough for a step's batch
    (folder / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in many))
    shutil.copy(DATA / "prompts.example.jsonl", folder / "val_prompts.jsonl")
    inter = [{"id": r["id"], "prompt": r["prompt"], "answer": r["reference"]} for r in recs if "reference" in r]
    (folder / "interleaved.jsonl").write_text("".join(json.dumps(r) + "\n" for r in inter))
    pics = [s["image"] for r in inter for s in r["answer"] if s.get("image")]
    und = [
        {"id": f"u{i}", "image": p, "question": "what is there ?", "answer": "a circle ."} for i, p in enumerate(pics)
    ]
    t2i = [{"id": f"t{i}", "caption": "draw : a red circle .", "image": p} for i, p in enumerate(pics)]
    (folder / "understanding.jsonl").write_text("".join(json.dumps(r) + "\n" for r in und))
    (folder / "text_to_image.jsonl").write_text("".join(json.dumps(r) + "\n" for r in t2i))


def build_clip(folder: Path):
    "A tiny open_clip model as a config JSON and a safetensors weights file."
    from safetensors.torch import save_file
    from interleaved_grpo.rl.scorers import clip_scorer

    tiny = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
    }
    (folder / "tiny-clip.json").write_text(json.dumps(tiny))
    clip = clip_scorer(str(folder / "tiny-clip.json"))
    save_file({k: v.contiguous() for k, v in clip.model.state_dict().items()}, str(folder / "tiny-clip.safetensors"))


def igrpo(*args, log: Path):
    "Run the CLI as `python -m interleaved_grpo.cli`; returns (exit code, wall seconds). Output goes to `log`."
    t = time.time()
    with open(log, "w") as f:
        r = subprocess.run([sys.executable, "-m", "interleaved_grpo.cli", *args], stdout=f, stderr=subprocess.STDOUT)
    return r.returncode, round(time.time() - t, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", choices=["pro-1b", "tiny"], default="pro-1b")
    ap.add_argument("--warmup-set", nargs="*", default=["max_steps=3", "batch_size=8", "gradient_checkpointing=true"])
    ap.add_argument("--train-set", nargs="*", default=["max_steps=2", "prompts_per_step=8", "eval_steps=2"])
    ap.add_argument("--skip-warmup", action="store_true", help="train from the random model folder directly")
    ap.add_argument("--results", default=None, help="JSON file for the figures (default: OUT/recipe.json)")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res_path = Path(a.results) if a.results else out / "recipe.json"
    dev = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    res = {
        "device": dev,
        "size": a.size,
        "torch": torch.__version__,
        "warmup_set": a.warmup_set,
        "train_set": a.train_set,
    }

    def say(k, v):
        res[k] = v
        print(f"{k:40s} {v}", flush=True)
        res_path.write_text(json.dumps(res, indent=1))

    t = time.time()
    say("model_params_M", round(build_model(out / "janus", a.size) / 1e6, 1))
    build_data(out)
    build_clip(out)
    say("build_s", round(time.time() - t, 1))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FixedCritic)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    cfgs = ROOT / "configs" / "janus-pro-1b"
    paths = [
        f"model_name_or_path={out / 'janus'}",
        f"interleaved_files=[{out / 'interleaved.jsonl'}]",
        f"understanding_files=[{out / 'understanding.jsonl'}]",
        f"text_to_image_files=[{out / 'text_to_image.jsonl'}]",
        "save_steps=1000",
    ]
    rc = None
    if not a.skip_warmup:
        rc, wall = igrpo(
            "warmup",
            "--config",
            str(cfgs / "warmup.yaml"),
            "--out",
            str(out / "warm"),
            "--quiet",
            "--set",
            *paths,
            *a.warmup_set,
            log=out / "warmup.log",
        )
        say("warmup_exit", rc)
        say("warmup_wall_s", wall)
    if rc == 0:
        rows = [json.loads(line) for line in (out / "warm" / "metrics.jsonl").read_text().splitlines()]
        say("warmup_metrics", rows)
    init = out / "warm" if rc == 0 else out / "janus"
    sets = [
        f"prompts_file={out / 'prompts.jsonl'}",
        f"val_prompts_file={out / 'val_prompts.jsonl'}",
        f"critic_base_url={url}",
        f"clip_model={out / 'tiny-clip.json'}",
        f"clip_pretrained={out / 'tiny-clip.safetensors'}",
        "save_steps=1000",
    ]
    if not torch.cuda.is_available():
        sets += ["mixed_precision=no"]
    rc, wall = igrpo(
        "train",
        "--config",
        str(cfgs / "grpo.yaml"),
        "--init",
        str(init),
        "--out",
        str(out / "grpo"),
        "--quiet",
        "--set",
        *sets,
        *a.train_set,
        log=out / "train.log",
    )
    say("train_exit", rc)
    say("train_wall_s", wall)
    if rc == 0:
        rows = [json.loads(line) for line in (out / "grpo" / "metrics.jsonl").read_text().splitlines()]
        say("train_metrics", rows)
        say("rollout_share", [round(r["rollout_s"] / r["step_s"], 3) for r in rows])
    srv.shutdown()
    for name in ("warmup.log", "train.log"):
        tail = (out / name).read_text()[-1500:] if (out / name).exists() else ""
        say(f"{name}_tail", tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
