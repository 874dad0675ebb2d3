"""Encoding warm-up data once into a cache: two processes (torchrun, gloo on the CPU) each encode half the
records and the result equals one process's, row for row."""

import json, os, shutil, subprocess, sys
from pathlib import Path
from conftest import CPU2, two_processes

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPT = """
import sys, json, torch
from pathlib import Path
from interleaved_grpo.core.config import process_state
from transformers import JanusForConditionalGeneration
from interleaved_grpo.core.codecs import tiny_janus_processor, JanusVQTokenizer, janus_token_spec, text_codec
from interleaved_grpo.core.model import tiny_janus_config
from interleaved_grpo.train.data import encode_cached
proc = tiny_janus_processor("draw a red green blue circle square".split(), image_size=32, image_len=16)
torch.manual_seed(0)
hf = JanusForConditionalGeneration(tiny_janus_config("test", text_vocab_size=len(proc.tokenizer), image_vocab_size=64))
enc, _ = text_codec(proc.tokenizer)
spec = janus_token_spec(proc.tokenizer, 16)
ds, n = encode_cached(sys.argv[1], "t2i", spec, enc, "k", JanusVQTokenizer(hf), sys.argv[2], batch_size=2, log=print)
state = process_state()
if state.is_main_process:
    rows = {k: ds.to_dict()[k] for k in ("ids", "index")}
    Path(sys.argv[3]).write_text(json.dumps({**rows, "n": n, "processes": state.num_processes}))
"""


def test_two_processes_encode_what_one_process_encodes(tmp_path):
    shutil.copytree(DATA / "images", tmp_path / "images")
    pics = sorted(p.name for p in (DATA / "images").iterdir())
    recs = [
        {"id": f"t{i}", "caption": f"draw a {c} circle", "image": f"images/{p}"}
        for i, (p, c) in enumerate(zip(pics, ["red", "green", "blue"] * 3))
    ]
    (tmp_path / "t2i.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp_path / "enc.py").write_text(SCRIPT)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    base = [str(tmp_path / "enc.py"), str(tmp_path / "t2i.jsonl")]
    one = subprocess.run(
        [sys.executable, *base, str(tmp_path / "c1"), str(tmp_path / "one.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run(
        two_processes(*base, str(tmp_path / "c2"), str(tmp_path / "two.json")),
        env={**env, **CPU2},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = json.loads((tmp_path / "one.json").read_text()), json.loads((tmp_path / "two.json").read_text())
    assert (a["processes"], b["processes"]) == (1, 2)
    assert a["n"] == b["n"] == {"examples": len(recs), "skipped": 0}
    assert a["index"] == b["index"] == list(range(len(recs)))
    assert a["ids"] == b["ids"]
    assert len({json.dumps(x) for x in a["ids"]}) > 1  # different pictures, different codes
    assert "encoding 8 records" in two.stdout and not list((tmp_path / "c2").glob("*.parts"))
