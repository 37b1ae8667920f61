"""Orthonormal DCT-II and its inverse (DCT-III) along the time axis, via ``scipy.fft`` (FAST,
Pertsch et al. 2025).

``coeffs[k] = sqrt(2/n) * c_k * sum_t x[t] * cos(pi * (2t + 1) * k / (2n))`` with ``c_0 = 1/sqrt(2)``,
else 1; orthonormal, so ``idct(dct(x)) == x`` and the 2-norm is kept.
"""

from __future__ import annotations

import numpy as np


def _check(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[0] < 1:
        raise ValueError(f"DCT length must be >= 1 along axis 0, got an array of shape {x.shape}")
    return x


def dct(x: np.ndarray) -> np.ndarray:
    """Orthonormal DCT-II over axis 0: float[H, ...] -> float64[H, ...] (frequency-major)."""
    from scipy.fft import dct as scipy_dct

    return scipy_dct(_check(x), type=2, norm="ortho", axis=0)  # (H, ...)


def idct(c: np.ndarray) -> np.ndarray:
    """Inverse of :func:`dct` (orthonormal DCT-III) over axis 0: float[H, ...] -> float64[H, ...]."""
    from scipy.fft import idct as scipy_idct

    return scipy_idct(_check(c), type=2, norm="ortho", axis=0)  # (H, ...)
