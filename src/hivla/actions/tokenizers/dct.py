"""Orthonormal DCT-II and its inverse (DCT-III) along the time axis, in numpy (FAST, Pertsch et al. 2025)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=32)
def dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix float64[n, n]: ``coeffs = D @ x``, ``x = D.T @ coeffs``.

    ``D[k, t] = sqrt(2/n) * c_k * cos(pi * (2t + 1) * k / (2n))`` with ``c_0 = 1/sqrt(2)``, else 1.
    """
    if n < 1:
        raise ValueError(f"DCT length must be >= 1, got {n}")
    k = np.arange(n)[:, None]  # (n, 1) frequency index
    t = np.arange(n)[None, :]  # (1, n) time index
    mat = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * t + 1) * k / (2 * n))  # (n, n)
    mat[0] /= np.sqrt(2.0)
    mat.setflags(write=False)
    return mat


def dct(x: np.ndarray) -> np.ndarray:
    """Orthonormal DCT-II over axis 0: float[H, ...] -> float64[H, ...] (frequency-major)."""
    x = np.asarray(x, dtype=np.float64)
    return np.tensordot(dct_matrix(x.shape[0]), x, axes=(1, 0))  # (H, ...)


def idct(c: np.ndarray) -> np.ndarray:
    """Inverse of :func:`dct` (orthonormal DCT-III) over axis 0: float[H, ...] -> float64[H, ...]."""
    c = np.asarray(c, dtype=np.float64)
    return np.tensordot(dct_matrix(c.shape[0]).T, c, axes=(1, 0))  # (H, ...)
