__version__ = "0.0.1"

import os as _os

# Idle OpenMP threads sleep instead of spinning (read when torch loads): two jobs on the same cores -- a notebook beside
# a training run -- then share them instead of starving each other. A value the user set is kept.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
