"""Benchmark session set-up: one BLAS thread, the repository root importable.

Figures are CPU time of one thread, so the BLAS and OpenMP pools must be pinned to one
thread before numpy is first imported; pytest loads this file before any benchmark module,
and the CI script sets the same variables on the command line for good measure.
The repository root goes on ``sys.path`` so benchmarks can share ``tests.corpus`` and
``bench.spandsp_peer`` whatever directory pytest was started from.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
