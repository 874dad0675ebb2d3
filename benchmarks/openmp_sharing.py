"""One job alone against two at once on the same cores, under OpenMP wait settings: a toy-size rollout (64 rows, 106
tokens, CFG 3), each run in a fresh process so the settings are read when torch loads.

    python benchmarks/openmp_sharing.py                          # the library's default and the alternatives
    python benchmarks/openmp_sharing.py --settings default passive spin100000

Prints seconds per rollout alone, each of two concurrent jobs, and the ratio (two at once / alone).
"""

import argparse, os, subprocess, sys, time

SETTINGS = {  # name: environment for the worker (None: unset; nothing set = what interleaved_grpo sets)
    "default": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"},
    "spin3000": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "3000"},
    "spin100000": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "100000"},
    "libgomp": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "300000"},  # libgomp's own default spin
}


def worker(repeats: int) -> None:
    import interleaved_grpo  # noqa: F401  (sets the OpenMP defaults before torch loads)
    import torch
    from interleaved_grpo.core.model import build_tiny_janus
    from interleaved_grpo.core.trajectory import TokenSpec, Encoded, TEXT, SPECIAL
    from interleaved_grpo.core.decoding import generate, SamplingConfig

    m = build_tiny_janus("toy", text_vocab_size=64, image_vocab_size=64, image_len=16).eval()
    V = 64
    spec = TokenSpec(
        bos_id=V - 10,
        eos_id=V - 9,
        pad_id=V - 8,
        boi_id=V - 7,
        eoi_id=V - 6,
        image_len=16,
        user_ids=(V - 5,),
        assistant_ids=(V - 4,),
    )
    torch.manual_seed(0)
    ps = []
    for i in range(64):
        ids = torch.cat(
            [
                torch.tensor([spec.bos_id, spec.user_ids[0]]),
                torch.randint(0, 40, (10 + i % 8,)),
                torch.tensor([spec.assistant_ids[0]]),
            ]
        )
        ps.append(Encoded(ids, torch.where(ids < 40, TEXT, SPECIAL), torch.zeros(len(ids), dtype=torch.bool), []))
    sc = SamplingConfig(max_new_tokens=106, cfg_scale=3.0, temperature=1.2, image_temperature=1.2)
    generate(m, ps, spec, sc, row_seeds=list(range(64)))
    t = time.perf_counter()
    for _ in range(repeats):
        generate(m, ps, spec, sc, row_seeds=list(range(64)))
    print((time.perf_counter() - t) / repeats)


def run(env: dict, n: int, repeats: int) -> list:
    "Seconds per rollout of `n` workers started together."
    e = {k: v for k, v in os.environ.items() if k not in env}
    e.update({k: v for k, v in env.items() if v is not None})
    cmd = [sys.executable, __file__, "--worker", "--repeats", str(repeats)]
    procs = [subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--settings", nargs="*", default=["default", "passive", "libgomp"], choices=list(SETTINGS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a.repeats)
    for name in a.settings:
        alone = run(SETTINGS[name], 1, a.repeats)[0]
        two = run(SETTINGS[name], 2, a.repeats)
        print(
            f"{name:12s} alone {alone:6.2f} s   two at once {two[0]:6.2f} / {two[1]:6.2f} s   "
            f"ratio {max(two) / alone:5.2f}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
