"""Small statistics for evaluation and experiments: Wilson intervals for rates, percentiles, mean
intervals, ranks, Spearman correlation with a bootstrap interval, and the area under the ROC curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Z95 = 1.959964  # two-sided 95% normal quantile


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a binomial rate (Wilson 1927); ``(0, 1)`` when n = 0."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (round(max(0.0, centre - half), 12), round(min(1.0, centre + half), 12))


def rate(successes: int, n: int) -> dict[str, Any]:
    """``{"count", "n", "rate", "ci95"}`` for ``successes`` out of ``n`` (rate 0 when n = 0)."""
    return {
        "count": int(successes),
        "n": int(n),
        "rate": successes / n if n else 0.0,
        "ci95": list(wilson_interval(int(successes), int(n))),
    }


def mean_ci(values: Sequence[float]) -> dict[str, Any]:
    """Mean with a normal-approximation 95% interval (clipped to the data range)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {"mean": 0.0, "ci95": [0.0, 0.0], "n": 0}
    mean = float(x.mean())
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else 0.0
    lo, hi = max(float(x.min()), mean - half), min(float(x.max()), mean + half)
    return {"mean": mean, "ci95": [lo, hi], "n": int(x.size)}


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """Median, p95, mean, min, max and count of a sample (zeros when empty)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {"n": 0, "median": 0.0, "p95": 0.0, "mean": 0.0, "min": 0.0, "max": 0.0}
    return {
        "n": int(x.size),
        "median": float(np.median(x)),
        "p95": float(np.percentile(x, 95)),
        "mean": float(x.mean()),
        "min": float(x.min()),
        "max": float(x.max()),
    }


def histogram(values: Sequence[float], bins: int = 20, log: bool = True) -> dict[str, list[float]]:
    """Counts over ``bins`` bins (log-spaced edges when ``log`` and all values > 0)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {"edges": [], "counts": []}
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        hi = lo * 1.1 + 1e-9
    if log and lo > 0:
        edges = np.geomspace(lo, hi, bins + 1)
    else:
        edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(x, edges)
    return {"edges": edges.tolist(), "counts": counts.astype(int).tolist()}


def ranks(x: Sequence[float]) -> np.ndarray:
    """Average ranks (1-based; ties share their mean rank)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x), np.float64)
    r[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=r)
    return sums[inverse] / counts[inverse]


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson on average ranks); NaN if either side is constant."""
    rx, ry = ranks(x), ranks(y)
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def bootstrap_ci(
    x: Sequence[float],
    y: Sequence[float],
    stat=spearman,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(x, y)`` over resampled pairs (Efron 1979).

    Resamples where the statistic is undefined (NaN) are skipped; (NaN, NaN) if all are.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        v = stat(x[idx], y[idx])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return (float("nan"), float("nan"))
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def auroc(scores: Sequence[float], labels: Sequence[float]) -> float:
    """Area under the ROC curve (Mann-Whitney U / (n_pos n_neg)); NaN without both classes."""
    s, y = np.asarray(scores, np.float64), np.asarray(labels) > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = ranks(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
