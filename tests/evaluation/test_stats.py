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


def test_bootstrap_interval_contains_the_estimate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    lo, hi = bootstrap_ci(x, y, n_boot=300)
    assert lo < spearman(x, y) < hi
