"""`igrpo eval`: hand-computed MMIE / InterleavedBench fixtures through the cache-only judge, the OpenAI-compatible
judge
against a real HTTP server on loopback (request format, retries, resumption from the cache), and malformed records."""

import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np
from PIL import Image
from conftest import run_igrpo


def _pictures(folder: Path, n: int = 8):
    for i in range(n):
        Image.fromarray(np.full((8, 8, 3), 30 * i, np.uint8)).save(folder / f"{i}.png")
    (folder / "bad.png").write_bytes(b"this is not a png")


def seg(text, image=None):
    return {"text": text, "image": image}


# MMIE fixture: the judge output each record's judgement holds, and the score MMIE's rules make of it.
MMIE_RECORDS = [
    # id, question, answer, judge output
    ("vist_SA_1", [seg("Tell a story.", "0.png")], [seg("Once.", "1.png")], "### Feedback\nnice\n### Score\n5"),  # SA 5
    ("SA_PBL_2", [seg("Both tags: SA wins.")], "plain string answer", "### Score: 2.5"),  # SA 2 (round half to even)
    (
        "wikihow_PBL_3",
        [seg("Fix a mirror.", "2.png")],
        [seg("Step 1", "3.png"), seg("Step 2", "4.png")],
        "### Score: 3.5",
    ),  # PBL 4
    ("wikihow_PBL_4", [seg("Hang a shelf.")], [seg("Drill.")], "### Score: 0.5"),  # PBL 0
    ("wikihow_PBL_5", [seg("Paint a wall.")], [seg("Roll.")], "### Score\n6.5"),  # PBL 6
    ("math_MSR_6", [seg("2 + 40?")], [seg("42")], "### Score: 7"),  # MSR invalid (> 6)
    ("math_MSR_7", [seg("3 * 3?")], [seg("10")], "### Score: 1"),  # MSR 1
    ("remi_MSR_8", [seg("Which?")], [seg("A")], "Score: 5"),  # invalid: no '### Score'
    ("big_SA_9", [seg(None, f"{i}.png") for i in range(5)], [seg("too many pictures")], None),  # dropped (5 pictures)
    (
        "vist_SA_10",
        [seg("Go on.", "missing.png"), seg(None, "0.png")],
        [seg("a", "1.png"), seg("b", "2.png"), seg("c", "3.png"), seg("d", "4.png")],
        "### Score: -0.4",
    ),  # SA 0; cut at 3 pictures
    ("vist_SA_11", [seg("Nobody judged me.")], [seg("...")], None),  # missing from the cache
]
# valid scores: SA {5, 2, 0}, PBL {4, 0, 6}, MSR {1}
# SA 7/3 = 2.333, PBL 10/3 = 3.333, MSR 1.0; pooled AVG 18/7 = 2.571 -> percent 42.857 (SA 38.889, PBL 55.556, MSR
# 16.667)


def mmie_fixture(folder: Path, ids=None):
    _pictures(folder)
    recs = [
        {
            "id": i,
            "question": q,
            "answer": a,
            "model": "m",
            "gt_answer": [seg("the answer", None)] if "MSR" in i else [seg(None, None)],
        }
        for i, q, a, _ in MMIE_RECORDS
        if ids is None or i in ids
    ]
    (folder / "data.json").write_text(json.dumps(recs))
    return folder / "data.json"


def test_mmie_cache_only_matches_hand_computed_scores(tmp_path):
    data = mmie_fixture(tmp_path)
    cache = tmp_path / "judgements.jsonl"
    cache.write_text(
        "".join(json.dumps({"id": i, "judge_output": out}) + "\n" for i, _, _, out in MMIE_RECORDS if out is not None)
    )
    r = run_igrpo(
        "eval",
        "mmie",
        "--data",
        str(data),
        "--judge",
        "cache-only",
        "--cache",
        str(cache),
        "--out",
        str(tmp_path / "s.json"),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["per_category"] == {"SA": 2.333, "PBL": 3.333, "MSR": 1.0}
    assert s["avg"] == 2.571
    assert s["percent"] == {"AVG": 42.857, "SA": 38.889, "PBL": 55.556, "MSR": 16.667}
    assert (s["n_valid"], s["n_dropped"], s["n_invalid_score"], s["n_missing"], s["n_judged"]) == (7, 1, 2, 1, 0)
    assert s["missing"] == ["vist_SA_11"] and "vist_SA_11" in r.stderr
    assert "42.857" in r.stderr  # the printed table


# InterleavedBench fixture: (id, task, {aspect: judge output})
IB_RECORDS = [
    (
        "r1",
        "storytelling_generation",
        {
            "text_quality": "Score: 4",
            "perceptual_quality": "Score: 3",
            "image_coherence": "Score: 2.5",
            "text_image_coherence": "Score: 1",
            "helpfulness": "Good. Score: 5",
        },
    ),
    (
        "r2",
        "sequential_image_editing",
        {"perceptual_quality": "Score: 5", "image_coherence": "Score: 7", "helpfulness": "Score: 4"},
    ),
    (
        "r3",
        "report_generation",
        {
            "text_quality": "Score: 5",
            "perceptual_quality": "no score here",
            "image_coherence": "Score: 3",
            "text_image_coherence": "Score: 4",
            "helpfulness": "Score: 3",
        },
    ),
]


def ib_fixture(folder: Path):
    _pictures(folder)
    recs = [
        {
            "id": i,
            "task_name": t,
            "image": ["0.png", "1.png", "5.png"],
            "conversations": [
                {"from": "human", "value": "Context <image> and <image>. Continue."},
                {"from": "gpt", "value": "gold <image>"},
            ],
            "output": [seg("First.", "2.png"), seg("Then.", "3.png"), seg("Done.")],
        }
        for i, t, _ in IB_RECORDS
    ]
    (folder / "interleaved_bench.json").write_text(json.dumps(recs))
    cache = folder / "ib_cache.jsonl"
    cache.write_text(
        "".join(
            json.dumps({"id": i, "aspect": a, "judge_output": o, "score": None}) + "\n"
            for i, _, d in IB_RECORDS
            for a, o in d.items()
        )
    )
    return folder / "interleaved_bench.json", cache


def test_interleavedbench_cache_only_matches_hand_computed_scores(tmp_path):
    data, cache = ib_fixture(tmp_path)
    r = run_igrpo(
        "eval",
        "interleavedbench",
        "--data",
        str(data),
        "--judge",
        "cache-only",
        "--cache",
        str(cache),
        "--out",
        str(tmp_path / "s.json"),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    # text {4, 5} 4.5; perceptual {3, 5} 4.0 ('no score here' invalid); image coherence {2.5, 3} 2.75 (7 invalid);
    # TIC {1, 4} 2.5; helpfulness {5, 4, 3} 4.0; r2 is an editing task: its text aspects are skipped. AVG 17.75 / 5 =
    # 3.55
    assert s["per_aspect"] == {
        "text_quality": 4.5,
        "perceptual_quality": 4.0,
        "image_coherence": 2.75,
        "text_image_coherence": 2.5,
        "helpfulness": 4.0,
    }
    assert s["avg"] == 3.55
    assert (s["n_invalid_score"], s["n_missing"], s["n_text_aspects_skipped"]) == (2, 0, 1)
    # the skip list is configurable: with report_generation on it, r3's text aspects drop out too
    r = run_igrpo(
        "eval",
        "interleavedbench",
        "--data",
        str(data),
        "--judge",
        "cache-only",
        "--cache",
        str(cache),
        "--out",
        str(tmp_path / "s2.json"),
        "--quiet",
        "--no-text-tasks",
        "sequential_image_editing",
        "report_generation",
    )
    s2 = json.loads((tmp_path / "s2.json").read_text())
    assert (s2["per_aspect"]["text_quality"], s2["per_aspect"]["text_image_coherence"], s2["avg"]) == (4.0, 1.0, 3.15)


class JudgeServer:
    """An OpenAI-compatible chat-completions server on loopback; `plan` holds HTTP codes to answer with, in order
    (then 200)."""

    def __init__(self, plan=(), reply=lambda body: "### Feedback\nfine\n### Score\n4"):
        self.plan, self.requests, self.reply = list(plan), [], reply
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                code = outer.plan.pop(0) if outer.plan else 200
                out = (
                    json.dumps({"choices": [{"message": {"role": "assistant", "content": outer.reply(body)}}]})
                    if code == 200
                    else json.dumps({"error": {"message": f"planned failure {code}"}})
                ).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/v1"

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


SECRET = {"OPENAI_API_KEY": "sk-test-never-print-me"}


def test_openai_judge_request_format_and_retry(tmp_path):
    data = mmie_fixture(tmp_path, ids={"vist_SA_1", "wikihow_PBL_3", "vist_SA_10"})
    srv = JudgeServer(plan=[500])  # the first request fails; the judge retries
    try:
        r = run_igrpo(
            "eval",
            "mmie",
            "--data",
            str(data),
            "--judge",
            f"openai:judge-model@{srv.url}",
            "--out",
            str(tmp_path / "s.json"),
            "--quiet",
            env=SECRET,
        )
    finally:
        srv.close()
    assert r.returncode == 0, r.stderr
    assert len(srv.requests) == 4  # 3 records + 1 retry
    path, headers, body = srv.requests[-1]
    assert path == "/v1/chat/completions" and body["model"] == "judge-model"
    assert headers["Authorization"] == "Bearer sk-test-never-print-me"
    parts = body["messages"][0]["content"]
    assert parts[0]["type"] == "text" and "### Question" in parts[0]["text"]
    # vist_SA_10: the missing picture is skipped, the answer cut after the third picture: text part + 3 pictures, in
    # order
    assert (
        parts[0]["text"].count("<image>") == 3
        and "Image-2: <image>" in parts[0]["text"]
        and "\nd\n" not in parts[0]["text"]
    )
    assert [p["type"] for p in parts[1:]] == ["image_url"] * 3
    assert all(p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts[1:])
    s = json.loads((tmp_path / "s.json").read_text())
    assert (s["avg"], s["n_valid"], s["n_judged"]) == (4.0, 3, 3)
    cache = tmp_path / "s.judgements_mmie.jsonl"
    assert [json.loads(line)["id"] for line in cache.read_text().splitlines()] == [
        "vist_SA_1",
        "wikihow_PBL_3",
        "vist_SA_10",
    ]
    for text in (r.stdout, r.stderr, cache.read_text(), (tmp_path / "s.json").read_text()):
        assert "sk-test-never-print-me" not in text


def test_openai_judge_refusal_then_resume_from_cache(tmp_path):
    data = mmie_fixture(tmp_path)  # 11 records, 1 dropped: 10 judgements needed
    srv = JudgeServer(plan=[200, 200, 200, 401])  # the 4th request is refused (bad key)
    try:
        r = run_igrpo(
            "eval",
            "mmie",
            "--data",
            str(data),
            "--judge",
            f"openai:m@{srv.url}",
            "--out",
            str(tmp_path / "s.json"),
            "--quiet",
            env=SECRET,
        )
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "refused" in r.stderr and "HTTP 401" in r.stderr and "rerun to resume" in r.stderr
        cache = tmp_path / "s.judgements_mmie.jsonl"
        assert len(cache.read_text().splitlines()) == 3  # what was judged before the failure is kept
        n_before = len(srv.requests)
        r = run_igrpo(
            "eval",
            "mmie",
            "--data",
            str(data),
            "--judge",
            f"openai:m@{srv.url}",
            "--out",
            str(tmp_path / "s.json"),
            "--quiet",
            env=SECRET,
        )
    finally:
        srv.close()
    assert r.returncode == 0, r.stderr
    assert len(srv.requests) - n_before == 7  # only the 7 records not yet judged
    s = json.loads((tmp_path / "s.json").read_text())
    assert (s["n_valid"], s["n_dropped"], s["n_judged"], s["avg"]) == (10, 1, 7, 4.0)
    assert "sk-test-never-print-me" not in r.stderr


def test_malformed_records_are_named_or_skipped(tmp_path):
    _pictures(tmp_path)
    good = {"id": "ok_SA", "question": [seg("q")], "answer": [seg("a")], "gt_answer": [seg(None)]}
    cases = [
        ({"id": "bad_SA_1", "answer": [seg("a")]}, "record 'bad_SA_1': field 'question' is missing"),
        ({"id": "bad_SA_2", "question": "a string", "answer": []}, "record 'bad_SA_2': field 'question'"),
        (
            {"id": "bad_SA_3", "question": [seg("q")], "answer": [seg("a", "bad.png")]},
            "record 'bad_SA_3': field 'answer[0].image': cannot read picture",
        ),
        (
            {"id": "bad_MSR_4", "question": [seg("q")], "answer": [seg("a")], "gt_answer": []},
            "record 'bad_MSR_4': field 'gt_answer[0].text'",
        ),
    ]
    cache = tmp_path / "c.jsonl"
    cache.write_text(json.dumps({"id": "ok_SA", "judge_output": "### Score: 3"}) + "\n")
    for rec, msg in cases:
        (tmp_path / "data.json").write_text(json.dumps([good, rec]))
        r = run_igrpo(
            "eval",
            "mmie",
            "--data",
            str(tmp_path / "data.json"),
            "--judge",
            "cache-only",
            "--cache",
            str(cache),
            "--out",
            str(tmp_path / "s.json"),
            "--quiet",
        )
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, (msg, r.stderr)
    (tmp_path / "data.json").write_text(json.dumps([good] + [c for c, _ in cases]))
    r = run_igrpo(
        "eval",
        "mmie",
        "--data",
        str(tmp_path / "data.json"),
        "--judge",
        "cache-only",
        "--cache",
        str(cache),
        "--out",
        str(tmp_path / "s.json"),
        "--quiet",
        "--skip-bad",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert (s["n_skipped"], s["n_valid"], s["avg"]) == (4, 1, 3.0)
    # InterleavedBench: a wrong type and a missing context picture
    ib = {
        "id": "ib1",
        "task_name": "t",
        "image": "0.png",
        "conversations": [{"from": "human", "value": "x <image>"}],
        "output": [],
    }
    (tmp_path / "ib.json").write_text(json.dumps([ib]))
    r = run_igrpo(
        "eval",
        "interleavedbench",
        "--data",
        str(tmp_path / "ib.json"),
        "--judge",
        "cache-only",
        "--out",
        str(tmp_path / "ib_s.json"),
        "--quiet",
    )
    assert r.returncode == 2 and "record 'ib1': field 'image': expected list" in r.stderr
    (tmp_path / "ib.json").write_text(json.dumps([dict(ib, image=["nope.png"])]))
    r = run_igrpo(
        "eval",
        "interleavedbench",
        "--data",
        str(tmp_path / "ib.json"),
        "--judge",
        "cache-only",
        "--out",
        str(tmp_path / "ib_s.json"),
        "--quiet",
    )
    assert r.returncode == 2 and "record 'ib1': field 'image[0]': picture not found" in r.stderr
    r = run_igrpo(
        "eval", "mmie", "--data", str(tmp_path / "data.json"), "--judge", "gpt-4o", "--out", str(tmp_path / "s.json")
    )
    assert r.returncode == 2 and "unknown judge 'gpt-4o'" in r.stderr
    # an output folder that already holds another evaluation is refused (its cached judgements belong to other answers)
    r = run_igrpo(
        "eval",
        "interleavedbench",
        "--data",
        str(tmp_path / "ib.json"),
        "--judge",
        "cache-only",
        "--out",
        str(tmp_path / "s.json"),
    )
    assert r.returncode == 2 and "holds answers and judgements of another evaluation" in r.stderr


def test_a_bad_data_file_leaves_the_folder_to_a_corrected_rerun(tmp_path):
    "The provenance stamp is written after the data file is read: a rerun with the corrected file is not refused."
    mmie_fixture(tmp_path)
    (tmp_path / "broken.json").write_text('[{"id": "vist_SA_1",')
    args = ["--judge", "cache-only", "--out", str(tmp_path / "out" / "s.json"), "--quiet"]
    r = run_igrpo("eval", "mmie", "--data", str(tmp_path / "broken.json"), *args)
    assert r.returncode == 2 and "broken.json is not valid JSON" in r.stderr, r.stderr
    assert not list((tmp_path / "out").glob("*.provenance.json"))
    r = run_igrpo("eval", "mmie", "--data", str(tmp_path / "data.json"), *args)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "out" / "s.json").read_text())["benchmark"] == "mmie"
