"""Small statistics for evaluation: Wilson intervals for rates, percentiles, mean intervals (scipy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

LEVEL = 0.95  # two-sided confidence level of every interval here


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a binomial rate (Wilson 1927, via scipy); ``(0, 1)`` when n = 0."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence_level=LEVEL, method="wilson")
    return (float(ci.low), float(ci.high))


def rate(successes: int, n: int) -> dict[str, Any]:
    """``{"count", "n", "rate", "ci95"}`` for ``successes`` out of ``n`` (rate 0 when n = 0)."""
    return {
        "count": int(successes),
        "n": int(n),
        "rate": successes / n if n else 0.0,
        "ci95": list(wilson_interval(int(successes), int(n))),
    }


def mean_ci(values: Sequence[float]) -> dict[str, Any]:
    """Mean with a normal-approximation 95% interval (scipy's normal quantile and standard error of
    the mean), clipped to the data range."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {"mean": 0.0, "ci95": [0.0, 0.0], "n": 0}
    mean = float(x.mean())
    from scipy.stats import norm, sem

    scale = float(sem(x)) if x.size > 1 else 0.0
    if scale == 0.0:  # one value, or all equal: no spread to speak of
        return {"mean": mean, "ci95": [mean, mean], "n": int(x.size)}
    lo, hi = norm.interval(LEVEL, loc=mean, scale=scale)
    return {
        "mean": mean,
        "ci95": [max(float(x.min()), float(lo)), min(float(x.max()), float(hi))],
        "n": int(x.size),
    }


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
