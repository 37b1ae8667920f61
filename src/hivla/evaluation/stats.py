"""Small statistics for evaluation and experiments, from scipy where it has them: Wilson intervals
for rates, percentiles, mean intervals, ranks, Spearman correlation with a bootstrap interval, and
the area under the ROC curve."""

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


def ranks(x: Sequence[float]) -> np.ndarray:
    """Average ranks (1-based; ties share their mean rank), via ``scipy.stats.rankdata``."""
    from scipy.stats import rankdata

    return rankdata(np.asarray(x, dtype=np.float64), method="average")


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (``scipy.stats.spearmanr``); NaN if either side is constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:  # undefined: say so without scipy's warning
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's linear correlation; NaN if either side is constant (with a binary ``y``: the
    point-biserial correlation)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def bootstrap_ci(
    x: Sequence[float],
    y: Sequence[float],
    stat=spearman,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(x, y)`` over resampled pairs (Efron 1979).

    Resamples where the statistic is undefined (NaN) are skipped; (NaN, NaN) if all are. Not
    ``scipy.stats.bootstrap``: it cannot skip such resamples (with binary labels, a resample holding
    one class leaves Spearman undefined and scipy's interval turns NaN), and it would draw other
    resamples, changing the seeded intervals of recorded results.
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


def paired_ratio_ci(
    shifted: Sequence[float],
    baseline: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float | None, list[float] | None]:
    """Ratio of two success rates measured on the same seeds, ``mean(shifted) / mean(baseline)``,
    with a paired percentile bootstrap interval (Efron 1979).

    ``shifted[i]`` and ``baseline[i]`` are outcomes (0/1) of the same seed; each resample draws seeds
    with replacement and keeps the pairs together, so the interval accounts for the seeds' shared
    difficulty. Resamples whose baseline rate is 0 (ratio undefined) are skipped. Deterministic for a
    given ``seed``. -> (ratio, [lo, hi]); (None, None) when the baseline never succeeds.
    """
    s, b = np.asarray(shifted, np.float64), np.asarray(baseline, np.float64)
    if s.shape != b.shape or s.ndim != 1:
        raise ValueError(f"need two 1-d outcome lists of one length, got shapes {s.shape} and {b.shape}")
    if s.size == 0 or b.sum() == 0:
        return None, None
    ratio = float(s.mean() / b.mean())
    idx = np.random.default_rng(seed).integers(0, s.size, (n_boot, s.size))  # (n_boot, n) seeds
    base = b[idx].mean(1)  # (n_boot,)
    ok = base > 0
    ratios = s[idx].mean(1)[ok] / base[ok]
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(ratios, [alpha, 1.0 - alpha])
    return ratio, [float(lo), float(hi)]


def paired_difference_ci(
    a: Sequence[float],
    b: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float | None, list[float] | None]:
    """Difference of two success rates measured on the same seeds, ``mean(a) - mean(b)``, with a
    paired percentile bootstrap interval (seeds drawn with replacement, pairs kept together, as
    :func:`paired_ratio_ci`). Deterministic for a given ``seed``. -> (difference, [lo, hi]);
    (None, None) for no seeds."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need two 1-d outcome lists of one length, got shapes {x.shape} and {y.shape}")
    if x.size == 0:
        return None, None
    idx = np.random.default_rng(seed).integers(0, x.size, (n_boot, x.size))  # (n_boot, n) seeds
    diffs = x[idx].mean(1) - y[idx].mean(1)  # (n_boot,)
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1.0 - alpha])
    return float(x.mean() - y.mean()), [float(lo), float(hi)]


def auroc(scores: Sequence[float], labels: Sequence[float]) -> float:
    """Area under the ROC curve: the Mann-Whitney U of the positives' scores over n_pos * n_neg
    (``scipy.stats.mannwhitneyu``); NaN without both classes."""
    s, y = np.asarray(scores, np.float64), np.asarray(labels) > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import mannwhitneyu

    u = mannwhitneyu(s[y], s[~y], method="asymptotic").statistic  # the p-value is not used
    return float(u / (n_pos * n_neg))
