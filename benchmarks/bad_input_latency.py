"""How long `igrpo` takes to refuse bad input: each case runs the command as a user would (a fresh process, so the
imports count), and the seconds to the one-line error are printed as a table and written as JSON.

    python benchmarks/bad_input_latency.py [--out benchmarks/results/bad_input_latency.json]

The cases are those of `tests/test_bad_inputs.py` plus an unreachable critic on a real run (a tiny Janus built here).
The target is under 10 s each on a laptop CPU. Run it with nothing else running."""

import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_bad_inputs import BAD_SETTINGS  # noqa: E402

IGRPO = Path(sys.executable).parent / "igrpo"


def timed(*args) -> tuple:
    "(seconds, exit code, last stderr line) of one `igrpo` command."
    t0 = time.perf_counter()
    r = subprocess.run([str(IGRPO), *args], capture_output=True, text=True, timeout=600)
    lines = r.stderr.strip().splitlines()
    return round(time.perf_counter() - t0, 2), r.returncode, lines[-1] if lines else ""


def tiny_janus(folder: Path) -> Path:
    "A tiny `transformers` Janus with its processor, saved to `folder/janus` (random weights)."
    import torch
    from transformers import JanusForConditionalGeneration
    from interleaved_grpo.core.codecs import tiny_janus_processor
    from interleaved_grpo.core.model import tiny_janus_config

    proc = tiny_janus_processor("a red circle square draw".split() + list(":,."), image_size=32, image_len=16)
    torch.manual_seed(0)
    hf = JanusForConditionalGeneration(
        tiny_janus_config("test", text_vocab_size=len(proc.tokenizer), image_vocab_size=64)
    )
    hf.save_pretrained(folder / "janus")
    proc.save_pretrained(folder / "janus")
    return folder / "janus"


def cases(d: Path) -> list:
    "(name, args) of each bad input."
    (d / "broken.yaml").write_text("max_steps: 3\n  beta: 0\n")
    out = [
        (" ".join([cmd, *extra]), [cmd, "--out", str(d / "run"), "--quiet", *extra]) for cmd, extra, _ in BAD_SETTINGS
    ]
    out.append(("train --config broken.yaml", ["train", "--config", str(d / "broken.yaml"), "--out", str(d / "run")]))
    prompts = ROOT / "data" / "prompts.example.jsonl"
    dead = ["critic_base_url=http://127.0.0.1:9/v1", "critic_model=llava", 'reward_terms=["r_t", "r_f"]']
    dead += ["prompts_per_step=2", "num_generations=2"]
    real = ["train", "--init", str(tiny_janus(d)), "--out", str(d / "run"), "--set", f"prompts_file={prompts}", *dead]
    out.append(("real run, critic unreachable", real))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bad_input_latency.json"))
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in cases(Path(tmp)):
            s, rc, line = timed(*cmd)
            rows.append({"case": name, "seconds": s, "exit": rc, "says": line[:150]})
            print(f"{s:6.2f} s  exit {rc}  {name}: {line[:90]}", flush=True)
    worst = max(r["seconds"] for r in rows)
    from interleaved_grpo.core.config import library_versions

    cpu = f"{library_versions()['cpu']}, {os.cpu_count()} cores ({platform.machine()})"
    result = {"command": "python benchmarks/bad_input_latency.py", "cpu": cpu, "worst_s": worst, "cases": rows}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"worst: {worst:.2f} s over {len(rows)} cases -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
