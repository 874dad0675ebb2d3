"""A real run on a CPU, everything built locally: a tiny `transformers` Janus + `JanusProcessor` saved to a folder,
JSONL
prompts, r_t from an OpenAI-compatible critic on loopback (the answer's pictures sent to it), r_v from a tiny open_clip
model (config JSON + safetensors). `igrpo train --config --init`, `--resume`, `igrpo generate` and `igrpo eval mmie`."""

import json, shutil, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import pytest
import torch
from conftest import run_igrpo

DATA = Path(__file__).resolve().parents[1] / "data"
WORDS = (
    "the story begins continue in steps build this a an at red green blue yellow circle square triangle top bottom "
    "left right what is where appears moves disappears to"
).split()


class Critic(BaseHTTPRequestHandler):
    "Scores 7 when the answer has a picture, 2 otherwise; counts the pictures it was sent."

    seen = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        parts = body["messages"][0]["content"]
        Critic.seen.append(len(parts) - 1)
        answer = parts[0]["text"].split("Answer:")[-1]
        score = 7 if "<image>" in answer else 2
        out = json.dumps({"choices": [{"message": {"content": f"checked.\n### Score\n{score}"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from safetensors.torch import save_file
    from transformers import JanusForConditionalGeneration
    from interleaved_grpo.core.codecs import tiny_janus_processor
    from interleaved_grpo.core.model import tiny_janus_config
    from interleaved_grpo.rl.scorers import clip_scorer

    root = tmp_path_factory.mktemp("real")
    proc = tiny_janus_processor(WORDS + list(":,.?") + ["1", "2", "3", "4"], image_size=32, image_len=16)
    torch.manual_seed(0)
    hf = JanusForConditionalGeneration(
        tiny_janus_config("test", text_vocab_size=len(proc.tokenizer), image_vocab_size=64)
    )
    hf.save_pretrained(str(root / "janus"))
    proc.save_pretrained(str(root / "janus"))
    tiny = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
    }
    (root / "tiny-clip.json").write_text(json.dumps(tiny))
    clip = clip_scorer(str(root / "tiny-clip.json"))
    save_file({k: v.contiguous() for k, v in clip.model.state_dict().items()}, str(root / "tiny-clip.safetensors"))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Critic)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    cfg = {
        "prompts_file": str(DATA / "prompts.example.jsonl"),
        "val_prompts_file": str(DATA / "prompts.example.jsonl"),
        "reward_terms": ["r_t", "r_v", "r_f"],
        "critic_base_url": url,
        "critic_model": "llava-critic",
        "clip_model": str(root / "tiny-clip.json"),
        "clip_pretrained": str(root / "tiny-clip.safetensors"),
        "learning_rate": 1e-4,
        "max_steps": 2,
        "num_generations": 2,
        "prompts_per_step": 2,
        "save_steps": 1,
        "eval_steps": 1,
        "beta": 0.04,
    }
    import yaml

    (root / "grpo.yaml").write_text(yaml.safe_dump(cfg))
    yield root, url
    srv.shutdown()


def test_train_with_a_critic_and_a_local_clip_then_resume(setup):
    root, _ = setup
    out = root / "run"
    r = run_igrpo(
        "train", "--config", str(root / "grpo.yaml"), "--init", str(root / "janus"), "--out", str(out), "--quiet"
    )
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((out / "report.json").read_text())
    assert set(rep["rewards"]) == {"reward", "reward/r_t", "reward/r_v", "reward/r_f"} and rep["steps"] == 2
    assert Critic.seen and max(Critic.seen) >= 1  # the critic was sent pictures
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in rows] == [1, 2] and all("val/reward" in m for m in rows)
    assert all(0.1 <= m["reward/r_t"] <= 1.0 for m in rows)  # critic scores / 10
    r = run_igrpo(
        "train",
        "--config",
        str(root / "grpo.yaml"),
        "--init",
        str(root / "janus"),
        "--out",
        str(out),
        "--quiet",
        "--resume",
        "--max_steps",
        "3",
    )  # a setting given as a flag
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming from" in r.stderr
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_forced_pictures_put_k_pictures_in_every_answer(setup, tmp_path):
    "A random model answers in the paper's structure when asked: k sentences, k full pictures, scored in micro-batches."
    root, _ = setup
    more = ["--forced_pictures", "2", "--text_tokens_per_step", "3", "--max_steps", "1", "--eval_steps", "0"]
    more += ["--gradient_accumulation_steps", "3", "--rollout_batch_size", "3"]
    r = run_igrpo(
        "train", "--config", str(root / "grpo.yaml"), "--init", str(root / "janus"), "--out", str(tmp_path / "k"), *more
    )
    assert r.returncode == 0, r.stderr[-3000:]
    row = json.loads((tmp_path / "k" / "metrics.jsonl").read_text().splitlines()[0])
    answers, image_len = 2 * 2, 16  # prompts_per_step x num_generations; the tiny model's codes per picture
    assert row["tokens/image"] == answers * 2 * image_len, row
    assert row["answer_len"] == 2 * (3 + 1 + image_len + 1) + 1  # sentence, <boi>, codes, <eoi>; then <eos>


def test_eight_bit_adam_trains_and_resumes(setup, tmp_path):
    "optim: adamw_8bit (bitsandbytes, on the CPU here): its 8-bit moments go into the checkpoint and come back."
    root, _ = setup
    base = ["train", "--config", str(root / "grpo.yaml"), "--init", str(root / "janus"), "--out", str(tmp_path)]
    r = run_igrpo(*base, "--optim", "adamw_8bit", "--max_steps", "1", "--eval_steps", "0")
    assert r.returncode == 0, r.stderr[-3000:]
    r = run_igrpo(*base, "--optim", "adamw_8bit", "--max_steps", "2", "--eval_steps", "0", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming from" in r.stderr
    assert [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    bad = run_igrpo(*base, "--optim", "sgd")
    assert bad.returncode == 2 and "optim must be one of" in bad.stderr


def test_lora_run_saves_a_plain_policy_and_resumes_from_its_adapters(setup):
    from safetensors.torch import load_file
    from interleaved_grpo.core.policy import Policy
    from interleaved_grpo.core.lora import has_lora, LORA_FILE

    root, _ = setup
    out = root / "lora"
    args = ("train", "--config", str(root / "grpo.yaml"), "--init", str(root / "janus"), "--out", str(out), "--quiet")
    r = run_igrpo(*args, "--set", "lora_r=4", "lora_alpha=8", "learning_rate=1e-2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "LoRA rank 4" in r.stderr
    last = out / "checkpoints" / "step-00000002" / "policy"
    adapters = load_file(str(last / LORA_FILE))
    assert adapters and all("lora_" in k for k in adapters)
    assert any(float(v.abs().max()) > 0 for k, v in adapters.items() if "lora_B" in k)  # B left zero: it trained
    assert (out / "policy" / "igrpo.json").exists() and not has_lora(Policy.load(out / "policy").model)
    trained, start = Policy.load(last), Policy.load(root / "janus")
    assert not has_lora(trained.model)  # a plain checkpoint, adapters folded in
    start_sd = dict(start.model.named_parameters())
    changed = [n for n, p in trained.model.named_parameters() if not torch.equal(p, start_sd[n])]
    assert changed and all("language_model.layers" in n for n in changed)  # only the adapted backbone weights moved
    r = run_igrpo(*args, "--resume", "--set", "lora_r=4", "lora_alpha=8", "learning_rate=1e-2", "max_steps=3")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming from" in r.stderr
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_qlora_run_trains_adapters_on_a_4bit_base_and_resumes(setup):
    "load_in_4bit: the backbone in NF4 (bitsandbytes, on the CPU here), adapters on top, a plain float policy saved."
    pytest.importorskip("bitsandbytes")
    from transformers import JanusForConditionalGeneration
    from interleaved_grpo.core.codecs import tiny_janus_processor
    from interleaved_grpo.core.lora import dequantized_weights, has_lora
    from interleaved_grpo.core.model import tiny_janus_config
    from interleaved_grpo.core.policy import Policy

    root, _ = setup
    proc = tiny_janus_processor(WORDS + list(":,.?") + ["1", "2", "3", "4"], image_size=32, image_len=16)
    torch.manual_seed(0)  # toy size: hidden 128, which NF4's blocks of 64 divide
    cfg = tiny_janus_config("toy", text_vocab_size=len(proc.tokenizer), image_vocab_size=64)
    hf = JanusForConditionalGeneration(cfg)
    hf.save_pretrained(str(root / "janus-toy"))
    proc.save_pretrained(str(root / "janus-toy"))
    out = root / "qlora"
    args = (
        "train",
        "--config",
        str(root / "grpo.yaml"),
        "--init",
        str(root / "janus-toy"),
        "--out",
        str(out),
        "--quiet",
        "--lora_r",
        "4",
        "--load_in_4bit",
        "--learning_rate",
        "1e-2",
    )
    r = run_igrpo(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "QLoRA: 28 backbone layers in 4 bits" in r.stderr and "LoRA rank 4" in r.stderr
    trained, start = Policy.load(out / "policy"), Policy.load(root / "janus-toy")
    assert not has_lora(trained.model) and dequantized_weights(trained.model) == ({}, set())  # plain float weights
    start_sd = dict(start.model.named_parameters())
    changed = [n for n, p in trained.model.named_parameters() if not torch.equal(p, start_sd[n])]
    assert changed and all("language_model.layers" in n for n in changed)  # the 4-bit backbone (rounded) + adapters
    r = run_igrpo(*args, "--resume", "--max_steps", "3")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming from" in r.stderr
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    r = run_igrpo("train", "--config", str(root / "grpo.yaml"), "--out", str(root / "bad"), "--load_in_4bit")
    assert r.returncode == 2 and "set lora_r > 0 too" in r.stderr


def test_generate_and_eval_with_the_trained_policy(setup, tmp_path):
    root, url = setup
    out = root / "run"
    if not (out / "policy").exists():
        pytest.skip("needs the training test's run")
    page = tmp_path / "a.html"
    r = run_igrpo(
        "generate",
        "--checkpoint",
        str(out),
        "--prompt",
        "build this in 2 steps: a red circle at the top left.",
        "--out",
        str(page),
        "--max-new-tokens",
        "60",
    )
    assert r.returncode == 0, r.stderr
    from interleaved_grpo.toy.benchmark import export_toy_benchmark

    files = export_toy_benchmark(tmp_path / "bench", n_per_family=1)
    r = run_igrpo(
        "eval",
        "mmie",
        "--data",
        str(files["mmie"]),
        "--checkpoint",
        str(out),
        "--judge",
        f"openai:critic@{url}",
        "--out",
        str(tmp_path / "ev" / "scores.json"),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / "ev" / "scores.json").read_text())
    # every answer judged; this stand-in judge says 7 (outside MMIE's 0-6, so dropped as invalid) or 2
    assert res["n_judged"] == 3 and res["n_valid"] + res["n_invalid_score"] == 3 and res["n_valid"] >= 1


def test_bad_real_run_settings_fail_at_once(setup, tmp_path):
    root, _ = setup
    cases = [
        (["--set", "prompts_file=/nonexistent.jsonl"], "prompts_file: no such file"),
        (
            ["--set", f"prompts_file={DATA / 'prompts.example.jsonl'}", "lerning_rate=1"],
            "unknown setting 'lerning_rate'",
        ),
        (
            ["--set", f"prompts_file={DATA / 'prompts.example.jsonl'}", 'reward_terms=["r_v"]'],
            "needs clip_model or image_scorer_url",
        ),
    ]
    for args, msg in cases:
        r = run_igrpo("train", "--init", str(root / "janus"), "--out", str(tmp_path / "x"), *args)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr[-500:])


def test_warmup_from_data_files_then_grpo_from_its_policy(setup, tmp_path):
    import yaml

    root, _ = setup
    recs = [json.loads(line) for line in (DATA / "prompts.example.jsonl").read_text().splitlines()]
    inter = [{"id": r["id"], "prompt": r["prompt"], "answer": r["reference"]} for r in recs if "reference" in r]
    shutil.copytree(DATA / "images", tmp_path / "images")
    (tmp_path / "inter.jsonl").write_text("".join(json.dumps(r) + "\n" for r in inter))
    pic = inter[0]["answer"][0]["image"]
    (tmp_path / "und.jsonl").write_text(
        json.dumps({"id": "u", "image": pic, "question": "what is there?", "answer": "a circle."})
    )
    (tmp_path / "t2i.jsonl").write_text(json.dumps({"id": "t", "caption": "draw: a red circle.", "image": pic}))
    cfg = {
        "model_name_or_path": str(root / "janus"),
        "interleaved_files": [str(tmp_path / "inter.jsonl")],
        "understanding_files": [str(tmp_path / "und.jsonl")],
        "text_to_image_files": [str(tmp_path / "t2i.jsonl")],
        "max_steps": 4,
        "batch_size": 2,
        "save_steps": 2,
        "warmup_steps": 1,
        "learning_rate": 1e-3,
        "encoded_cache_dir": str(tmp_path / "codes"),
    }
    (tmp_path / "warmup.yaml").write_text(yaml.safe_dump(cfg))
    r = run_igrpo("warmup", "--config", str(tmp_path / "warmup.yaml"), "--out", str(tmp_path / "warm"), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "codes").iterdir()) == [
        "interleaved",
        "t2i",
        "understanding",
    ]
    assert "encoding" in r.stderr
    rep = json.loads((tmp_path / "warm" / "report.json").read_text())
    assert (
        rep["data"]
        == {
            "interleaved": {"examples": 2, "skipped": 0},
            "understanding": {"examples": 1, "skipped": 0},
            "t2i": {"examples": 1, "skipped": 0},
        }
        and rep["last"]["step"] == 4
    )
    # each source's loss is logged (4 steps of 2 rows see all 4 examples twice) and drawn
    assert {"loss/interleaved", "loss/understanding", "loss/t2i"} <= set(rep["last"])
    assert (tmp_path / "warm" / "source_loss.png").stat().st_size > 1000
    # a Janus checkpoint with its processor reads prompt pictures with its understanding encoder, in the warm-up too
    import datasets

    und = datasets.load_from_disk(str(next((tmp_path / "codes").glob("understanding-*"))))
    assert und[0]["und_shapes"] and len(und[0]["und_pictures"]) == 1  # the picture kept for the encoder, not coded
    assert json.loads((tmp_path / "warm" / "policy" / "igrpo.json").read_text())["prompt_pictures"] == "understanding"
    r = run_igrpo(
        "train",
        "--config",
        str(root / "grpo.yaml"),
        "--init",
        str(tmp_path / "warm"),
        "--out",
        str(tmp_path / "grpo"),
        "--quiet",
        "--set",
        "max_steps=1",
        "eval_steps=0",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((tmp_path / "grpo" / "report.json").read_text())["steps"] == 1


@pytest.mark.parametrize("name", ["janus-pro-1b", "janus-pro-7b"])
def test_shipped_configs_name_only_known_settings(name):
    "Every key of the shipped settings files is a setting (or a data/model source) with a value of the right type."
    import yaml
    from dataclasses import fields
    from interleaved_grpo.core.config import apply_overrides
    from interleaved_grpo.train.grpo import TrainConfig
    from interleaved_grpo.train.run import RunSources, WarmupSources
    from interleaved_grpo.train.warmup import WarmupConfig

    root = Path(__file__).resolve().parents[1] / "configs" / name
    files = sorted(root.glob("*.yaml"))
    assert {"grpo.yaml", "warmup.yaml"} <= {f.name for f in files}
    for file in files:
        cfg_cls, src_cls = (WarmupConfig, WarmupSources) if file.name == "warmup.yaml" else (TrainConfig, RunSources)
        items = yaml.safe_load(file.read_text())
        names = {f.name for f in fields(src_cls)}
        apply_overrides(src_cls(), [f"{k}={json.dumps(v)}" for k, v in items.items() if k in names])
        cfg = apply_overrides(cfg_cls(), [f"{k}={json.dumps(v)}" for k, v in items.items() if k not in names])
        if hasattr(cfg, "__post_init__"):
            cfg.__post_init__()
    assert cfg.lr > 0


@pytest.mark.parametrize("name", ["ddp", "fsdp2", "deepspeed_zero3"])
def test_shipped_accelerate_configs_load(name):
    "accelerate reads each shipped launcher config, and the DeepSpeed one asks for ZeRO stage 3 (the loop's stage)."
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(Path(__file__).resolve().parents[1] / "configs" / "accelerate" / f"{name}.yaml"))
    want = {"ddp": "MULTI_GPU", "fsdp2": "FSDP", "deepspeed_zero3": "DEEPSPEED"}[name]
    assert str(cfg.distributed_type).split(".")[-1] == want
    if name == "deepspeed_zero3":
        assert cfg.deepspeed_config["zero_stage"] == 3


def test_real_run_sharded_by_deepspeed_zero3_then_resumed(setup):
    """`igrpo train --config --init` on two CPU processes sharded by DeepSpeed ZeRO-3 (gloo): the Janus checkpoint reads
    prompt pictures through its understanding encoder, so one process may hold a picture while the other holds none
    (every module still runs on both); the KL reference is a ZeRO-3 engine; the run is resumed from its checkpoint. A
    linear learning-rate schedule reaches DeepSpeed's optimizer, and the resumed run continues it (over 3 steps now)."""
    import os, subprocess
    from conftest import two_processes, zero3_env
    from interleaved_grpo.core.policy import Policy

    root, _ = setup
    out = root / "zero3"
    env = zero3_env(os.environ, root)
    args = ["-m", "interleaved_grpo.cli", "train", "--config", str(root / "grpo.yaml"), "--init", str(root / "janus")]
    for more in ((), ("--resume", "--max_steps", "3")):
        cmd = [*two_processes(*args, "--out", str(out), "--quiet", "--lr_scheduler_type", "linear"), *more]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "DeepSpeed ZeRO-3 over 2 processes" in r.stderr
    assert "resuming from" in r.stderr
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in rows] == [1, 2, 3] and all("kl/text" in m and "val/reward" in m for m in rows)
    assert [m["lr"] for m in rows] == pytest.approx([1e-4, 0.5e-4, 1e-4 / 3])  # 2 steps of 2, then step 3 of 3
    policy = Policy.load(out / "policy")
    assert policy.prompt_understand() is not None  # the understanding path was on
    assert all(p.numel() > 0 for p in policy.model.parameters())  # written whole


def _real_train(root: Path, out, *more, init=None):
    "`igrpo train` of the fixture's settings file from its tiny Janus (or `init`) into `out`, with `more` arguments."
    init = init or root / "janus"
    return run_igrpo("train", "--config", str(root / "grpo.yaml"), "--init", str(init), "--out", str(out), *more)


def _prompts_only(root: Path, **more) -> dict:
    "Settings of a short real run with the structural term alone (no reward server), in TRL's names."
    return {
        "prompts_file": str(DATA / "prompts.example.jsonl"),
        "reward_terms": ["r_f"],
        "num_generations": 2,
        "learning_rate": 1e-4,
        "max_steps": 2,
        **more,
    }


def test_a_grpo_config_in_trls_names_runs_unchanged(setup, tmp_path):
    "output_dir instead of --out; per_device_train_batch_size in completions; save_total_limit; bf16; report_to."
    import yaml

    root, _ = setup
    trl = _prompts_only(
        root,
        output_dir=str(tmp_path / "trl-run"),
        per_device_train_batch_size=4,  # completions per process: 2 prompts x 2 answers
        max_steps=3,
        save_steps=1,
        save_total_limit=1,
        bf16=False,
        report_to="none",
        logging_dir=str(tmp_path / "logs"),
        max_completion_length=40,
    )
    (tmp_path / "trl.yaml").write_text(yaml.safe_dump(trl))
    r = run_igrpo("train", "--config", str(tmp_path / "trl.yaml"), "--init", str(root / "janus"), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "trl-run"
    settings = json.loads((out / "train_config.json").read_text())
    assert (settings["prompts_per_step"], settings["mixed_precision"], settings["report_to"]) == (2, "no", ["none"])
    assert [p.name for p in (out / "checkpoints").glob("step-*")] == ["step-00000003"]  # the newest one kept
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in rows] == [1, 2, 3] and all(m["answer_len"] <= 40 for m in rows)
    assert not (tmp_path / "logs").exists()  # report_to none: no tracker wrote anything


def test_a_warmup_config_in_trls_names_runs_unchanged(setup, tmp_path):
    "The warm-up from SFTConfig's names: per_device_train_batch_size in rows, gradient_accumulation_steps, ..."
    import yaml

    root, _ = setup
    pic = str(DATA / "images" / sorted(p.name for p in (DATA / "images").iterdir())[0])
    (tmp_path / "t2i.jsonl").write_text(json.dumps({"id": "t", "caption": "draw: a red circle.", "image": pic}))
    trl = {
        "model_name_or_path": str(root / "janus"),
        "text_to_image_files": [str(tmp_path / "t2i.jsonl")],
        "output_dir": str(tmp_path / "warm"),
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 2,
        "learning_rate": 1e-3,
        "max_steps": 2,
        "warmup_steps": 1,
        "logging_steps": 1,
        "save_steps": 1,
        "save_total_limit": 1,
        "bf16": False,
        "report_to": ["none"],
        "encoded_cache_dir": str(tmp_path / "codes"),
    }
    (tmp_path / "sft.yaml").write_text(yaml.safe_dump(trl))
    r = run_igrpo("warmup", "--config", str(tmp_path / "sft.yaml"), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    settings = json.loads((tmp_path / "warm" / "warmup_config.json").read_text())
    assert (settings["batch_size"], settings["grad_accum"], settings["log_every"]) == (2, 2, 1)
    assert [p.name for p in (tmp_path / "warm" / "checkpoints").glob("step-*")] == ["step-00000002"]


def test_a_dead_critic_fails_in_seconds_before_anything_loads(setup, tmp_path):
    import time

    root, _ = setup
    out = tmp_path / "run"
    args = ["--set", "critic_base_url=http://127.0.0.1:9/v1", "critic_model=llava", 'reward_terms=["r_t", "r_f"]']
    t0 = time.time()
    r = _real_train(root, out, *args)
    assert r.returncode == 2 and "critic server http://127.0.0.1:9/v1 does not answer" in r.stderr, r.stderr[-2000:]
    assert time.time() - t0 < 25 and not out.exists()  # no 2+4+8+16 s of retries: one probe, then the error
    r = _real_train(root, out, init=tmp_path / "nope")
    assert r.returncode == 2 and "--init" in r.stderr and not out.exists()
    r = _real_train(root, out, "--set", "prompts_file=/no/such.jsonl")
    assert r.returncode == 2 and "prompts_file: no such file" in r.stderr and not out.exists()


def test_serve_scorer_answers_a_run_with_image_scorer_url(setup, tmp_path):
    "`igrpo serve-scorer --backend open_clip` (the tiny CLIP) gives r_v to `igrpo train` through image_scorer_url."
    import re, subprocess
    from conftest import BIN

    root, _ = setup
    cmd = [str(BIN / "igrpo"), "serve-scorer", "--backend", "open_clip", "--model", str(root / "tiny-clip.json")]
    cmd += ["--pretrained", str(root / "tiny-clip.safetensors"), "--port", "0", "--name", "tiny-clip"]
    srv = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()
        url = re.search(r"http://\S+", line).group(0)
        sets = [f"image_scorer_url={url}", "image_scorer_model=tiny-clip", 'reward_terms=["r_v", "r_f"]', "clip_model="]
        out = tmp_path / "run"
        r = _real_train(root, out, "--quiet", "--set", *sets)
        assert r.returncode == 0, r.stderr[-3000:]
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert all(m["failed/r_v"] == 0 for m in rows)
        assert any(m["reward/r_v"] not in (0.0, -1.0) for m in rows)  # CLIP cosines, not the no-picture floor
    finally:
        srv.terminate()
        srv.wait(timeout=30)
