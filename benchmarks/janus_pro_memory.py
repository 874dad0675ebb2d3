"""Janus-Pro at real size on one GPU, pictures in every answer: memory per phase against `igrpo plan`, flat over steps,
and one QLoRA step of Janus-Pro-7B. The one script a lent GPU runs for issue 36 (about 7 minutes on an H100).

    python benchmarks/janus_pro_memory.py --out DIR                 # on a GPU
    python benchmarks/janus_pro_memory.py --out DIR --size tiny     # CPU smoke test of the same script (a minute)

What it runs, in order, each part skipped (and said so) when the time left (`--budget-s`) would not cover it:
1. `benchmarks/janus_pro_gpu.py` on Janus-Pro-1B shapes: picture decoding with CFG at 16 and 64 rows (ms per step,
   codes/s) and the update on trajectories with two 576-code pictures each, CFG-aware scoring (tokens/s, MFU).
2. `igrpo warmup --config configs/janus-pro-1b/warmup.yaml` for 3 steps, as shipped except paths (batch 32 in 4
   micro-batches): the peak of each step (`peak_GiB/step`).
3. `igrpo train --config configs/janus-pro-1b/grpo.yaml` for 3 steps with `forced_pictures 3` (every answer three
   sentences and three 576-code pictures) and 8 prompts a step in 8 micro-batches: the same rollout blocks (16 answers)
   and micro-batches (4 answers) as the shipped 32 prompts in 32, so the same memory in a quarter of the time. Per step:
   the peak of each phase, step time, rollout share, sampled codes per second of rollout.
4. `igrpo train --config configs/janus-pro-7b/grpo-qlora.yaml` for 1 step (4 prompts, one picture an answer): peak
   memory and step time of QLoRA on 7B shapes.
Beside every measured peak: `igrpo plan`'s estimate of the same phase for the same settings (`plan_GiB/...`), and
whether the largest measured peak is at or under 68 GiB (an 80 GB card with 15% headroom).

Weights are random (nothing is downloaded): `benchmarks/janus_pro_recipe.py` builds the model folders, the data files,
a tiny CLIP for r_v and a loopback critic for r_t. Figures are written after every line (a killed run keeps them).
"""

import argparse, json, subprocess, sys, threading, time
from http.server import ThreadingHTTPServer
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from janus_pro_recipe import FixedCritic, build_clip, build_data, build_model, igrpo  # noqa: E402

PHASES = ("rollout", "reference", "forward", "backward", "optimizer")


class Results(dict):
    "Figures printed as they come and written to `path` after each one."

    def __init__(self, path: Path, **kw):
        super().__init__(**kw)
        self.path = path

    def say(self, k, v):
        self[k] = v
        print(f"{k:48s} {v}", flush=True)
        self.path.write_text(json.dumps(self, indent=1))


def metrics(folder: Path) -> list:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def planned(config: Path, model: Path, sets: list, pictures: int) -> dict:
    "`igrpo plan`'s GiB per phase on one card for this run's settings."
    from interleaved_grpo.train.memory import plan

    mp = plan(config, gpus=(1,), overrides=sets, model=str(model), pictures=pictures)
    return {k: round(v / 2**30, 2) for k, v in mp.phases[1].items()}


def speed(res: Results, size: str, out: Path) -> None:
    "Part 1: decoding and update speed from janus_pro_gpu.py (its own JSON, folded into these results)."
    path = out / "speed.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "janus_pro_gpu.py"), "--size", size, "--out", str(path)]
    cmd += ["--rows", "16", "64", "--decode-variants", "graphs_bf16", "--skip-gpu-tests"]
    cmd += ["--train", "8:cfg_detached_uncond:gradckpt:128", "--steps-per-answer", "2", "--text-tokens", "16"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    got = json.loads(path.read_text()) if path.exists() else {}
    for k, v in got.items():
        if k.startswith(("decode_", "train_", "params_")):
            res.say(f"speed/{k}", v)
    if r.returncode:
        res.say("speed/error", r.stderr[-800:])


def warmup(res: Results, out: Path, sets: list, tiny: bool) -> None:
    "Part 2: the shipped 1B warm-up config for 3 steps."
    cfg = ROOT / "configs" / "janus-pro-1b" / "warmup.yaml"
    more = ["max_steps=3", "logging_steps=1", "save_steps=1000"] + (["mixed_precision=no"] if tiny else [])
    rc, wall = igrpo(
        "warmup",
        "--config",
        str(cfg),
        "--out",
        str(out / "warm"),
        "--quiet",
        "--set",
        *sets,
        *more,
        log=out / "warmup.log",
    )
    res.say("warmup/exit", rc)
    res.say("warmup/wall_s", wall)
    if rc:
        res.say("warmup/log_tail", (out / "warmup.log").read_text()[-1500:])
        return
    rows = metrics(out / "warm")
    res.say("warmup/step_s", [r["step_s"] for r in rows])
    res.say("warmup/tokens_per_s", [r["tokens_per_s"] for r in rows])
    res.say("warmup/peak_GiB_per_step", [r.get("peak_GiB/step") for r in rows])
    res.say("warmup/plan_GiB", planned(cfg, out / "janus", sets + more, 3))


def grpo(res: Results, out: Path, tag: str, cfg: Path, init: Path, sets: list, pictures: int) -> None:
    "Parts 3 and 4: a few GRPO steps of a shipped config, pictures in every answer."
    rc, wall = igrpo(
        "train",
        "--config",
        str(cfg),
        "--init",
        str(init),
        "--out",
        str(out / tag),
        "--quiet",
        "--set",
        *sets,
        log=out / f"{tag}.log",
    )
    res.say(f"{tag}/exit", rc)
    res.say(f"{tag}/wall_s", wall)
    if rc:
        res.say(f"{tag}/log_tail", (out / f"{tag}.log").read_text()[-1500:])
        return
    rows = metrics(out / tag)
    res.say(f"{tag}/step_s", [r["step_s"] for r in rows])
    res.say(f"{tag}/rollout_share", [round(r["rollout_s"] / r["step_s"], 3) for r in rows])
    res.say(f"{tag}/codes_per_s", [round(r["tokens/image"] / max(r["rollout_s"], 1e-9)) for r in rows])
    res.say(f"{tag}/answer_len", [r["answer_len"] for r in rows])
    for ph in PHASES:
        res.say(f"{tag}/peak_GiB/{ph}", [r.get(f"peak_GiB/{ph}") for r in rows])
    res.say(f"{tag}/plan_GiB", planned(cfg, init, sets, pictures))
    peaks = [max((r.get(f"peak_GiB/{ph}") or 0) for ph in PHASES) for r in rows]
    res.say(f"{tag}/largest_GiB_per_step", peaks)
    res.say(f"{tag}/at_most_68_GiB", max(peaks) <= 68 if any(peaks) else None)  # None: no GPU, nothing measured


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", choices=["pro", "tiny"], default="pro", help="Janus-Pro shapes, or tiny (CPU smoke)")
    ap.add_argument("--budget-s", type=float, default=450, help="skip a part that would not end within this")
    ap.add_argument("--skip", nargs="*", default=[], choices=["speed", "warmup", "grpo", "qlora-7b"])
    a = ap.parse_args()
    out, t0, tiny = Path(a.out), time.time(), a.size == "tiny"
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    res = Results(out / "memory.json", device=dev, size=a.size, torch=torch.__version__)
    left = lambda: a.budget_s - (time.time() - t0)
    need = {"speed": 70, "warmup": 90, "grpo": 150, "qlora-7b": 170} if not tiny else {}

    def go(part):
        if part in a.skip or left() < need.get(part, 0):
            res.say(f"{part}/skipped", "asked" if part in a.skip else f"{left():.0f} s left of the budget")
            return False
        return True

    if go("speed"):
        speed(res, "tiny" if tiny else "pro-1b", out)
    t = time.time()
    res.say("model_1b_params_M", round(build_model(out / "janus", "tiny" if tiny else "pro-1b") / 1e6, 1))
    build_data(out)
    build_clip(out)
    res.say("build_s", round(time.time() - t, 1))
    paths = [f"model_name_or_path={out / 'janus'}"] + [
        f"{k}_files=[{out / (k + '.jsonl')}]" for k in ("interleaved", "understanding", "text_to_image")
    ]
    if go("warmup"):
        warmup(res, out, paths, tiny)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FixedCritic)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sets = [
        f"prompts_file={out / 'prompts.jsonl'}",
        f"val_prompts_file={out / 'val_prompts.jsonl'}",
        f"critic_base_url=http://127.0.0.1:{srv.server_address[1]}/v1",
        f"clip_model={out / 'tiny-clip.json'}",
        f"clip_pretrained={out / 'tiny-clip.safetensors'}",
        "save_steps=1000",
        "eval_steps=0",
    ] + (["mixed_precision=no"] if tiny else [])
    if go("grpo"):
        more = ["max_steps=3", "prompts_per_step=8", "gradient_accumulation_steps=8", "forced_pictures=3"]
        grpo(res, out, "grpo_1b", ROOT / "configs/janus-pro-1b/grpo.yaml", out / "janus", sets + more, 3)
    if go("qlora-7b"):
        t = time.time()
        res.say("model_7b_params_M", round(build_model(out / "janus7b", "tiny" if tiny else "pro-7b") / 1e6, 1))
        res.say("build_7b_s", round(time.time() - t, 1))
        more = ["max_steps=1", "prompts_per_step=4", "gradient_accumulation_steps=4", "forced_pictures=1"]
        grpo(res, out, "qlora_7b", ROOT / "configs/janus-pro-7b/grpo-qlora.yaml", out / "janus7b", sets + more, 1)
    srv.shutdown()
    res.say("total_s", round(time.time() - t0, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
