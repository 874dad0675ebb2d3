__version__ = "0.0.1"

import os as _os

# OpenMP threads that wait for work spin briefly, then sleep (read when torch loads). Spinning forever (the ACTIVE
# policy) lets two jobs on the same cores -- a notebook beside a training run -- starve each other; never spinning
# (PASSIVE alone) wakes threads so often that small models run a third slower. On 2 cores, a toy rollout of 64 rows:
# PASSIVE 1.49 s alone and 1.58 s each with two jobs at once; a 3,000-iteration spin 1.13 s alone and 2.05 s each;
# 100,000 iterations 0.88 s alone but 15.5 s each. Values the user set are kept.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    _os.environ["GOMP_SPINCOUNT"] = "3000"  # libgomp (PyTorch's OpenMP on Linux) spins this long before sleeping
