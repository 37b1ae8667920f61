import math
import statistics

import numpy as np
import pytest

from hivla.evaluation.stats import (
    auroc,
    bootstrap_ci,
    distribution,
    histogram,
    mean_ci,
    ranks,
    rate,
    spearman,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (1, 100, 0.0018, 0.0545)],
)
def test_wilson_matches_reference_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def _textbook_wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """The score interval written out (Wilson 1927): what the hand-written version computed."""
    p, denom = k / n, 1 + z**2 / n
    centre, half = (p + z**2 / (2 * n)) / denom, z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def test_wilson_from_scipy_gives_the_numbers_of_the_formula():
    z = statistics.NormalDist().inv_cdf(0.975)
    pairs = [(k, n) for n in (1, 2, 3, 7, 10, 50) for k in range(n + 1)]
    for k, n in pairs:
        assert wilson_interval(k, n) == pytest.approx(_textbook_wilson(k, n, z), abs=1e-12)
        # the earlier version used z rounded to 1.959964: within 4e-9 of it everywhere
        assert wilson_interval(k, n) == pytest.approx(_textbook_wilson(k, n, 1.959964), abs=5e-9)


def test_mean_interval_is_the_normal_approximation():
    rng = np.random.default_rng(0)
    z = statistics.NormalDist().inv_cdf(0.975)
    for size in (2, 5, 40):
        x = rng.normal(3.0, 2.0, size)
        half = z * x.std(ddof=1) / math.sqrt(size)
        expected = [max(x.min(), x.mean() - half), min(x.max(), x.mean() + half)]
        assert mean_ci(x)["ci95"] == pytest.approx(expected, abs=1e-12)
    assert mean_ci([2.0, 2.0, 2.0])["ci95"] == [2.0, 2.0] and mean_ci([1.5])["ci95"] == [1.5, 1.5]


def test_wilson_edge_cases():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(7, 7)[1] == 1.0 and wilson_interval(0, 7)[0] == 0.0
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(3, 2)


def test_rate_and_summaries():
    r = rate(3, 4)
    assert r["rate"] == 0.75 and r["n"] == 4 and r["ci95"][0] < 0.75 < r["ci95"][1]
    assert rate(0, 0)["rate"] == 0.0
    m = mean_ci([1.0, 2.0, 3.0])
    assert m["mean"] == 2.0 and 1.0 <= m["ci95"][0] < 2.0 < m["ci95"][1] <= 3.0
    d = distribution(np.arange(101.0))
    assert d["median"] == 50.0 and d["p95"] == 95.0 and d["n"] == 101
    assert distribution([])["n"] == 0
    h = histogram([0.1, 0.2, 0.4, 10.0], bins=4)
    assert sum(h["counts"]) == 4 and len(h["edges"]) == 5
    assert h["edges"][1] / h["edges"][0] == pytest.approx(h["edges"][2] / h["edges"][1])  # log-spaced


def test_ranks_spearman_and_auroc_match_definitions():
    assert ranks([3, 1, 3, 2]).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert np.isnan(auroc([0.1, 0.2], [1, 1]))


def test_spearman_and_auroc_equal_their_definitions_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(20):
        x, y = rng.integers(0, 6, 30).astype(float), rng.normal(size=30)
        expected = np.corrcoef(ranks(x), ranks(y))[0, 1]  # Pearson on average ranks
        assert spearman(x, y) == pytest.approx(expected, abs=1e-12)
        labels = rng.random(30) < 0.4
        pos, neg = x[labels], x[~labels]
        pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
        assert auroc(x, labels) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)


def test_bootstrap_interval_contains_the_estimate_and_keeps_its_seeded_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    lo, hi = bootstrap_ci(x, y, n_boot=300)
    assert lo < spearman(x, y) < hi
    # the values the numpy-only version gave (before ranks and Spearman came from scipy)
    assert (lo, hi) == pytest.approx((0.4135640179969951, 0.7527807117485734), abs=1e-12)
    fail = (np.arange(12) % 4 == 0).astype(float)  # binary labels: some resamples hold one class
    got = bootstrap_ci(np.linspace(0.2, 1.3, 12) ** 2, fail, n_boot=300, seed=3)
    assert got == pytest.approx((-0.7617283754520474, 0.38594162556691297), abs=1e-12)
