"""Thread counts: oversubscribed OpenMP/BLAS threads on small CPUs make torch steps erratic."""

from __future__ import annotations

import os


def limit_threads(n: int | None = None) -> int:
    """Set torch intra-op threads (and BLAS/OpenMP env defaults) to ``n`` (default: all cores).

    Returns the count used. Call before heavy work, once per process.
    """
    n = n or max(1, os.cpu_count() or 1)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    try:
        import torch
    except ImportError:
        return n
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
