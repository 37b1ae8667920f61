import numpy as np
import pytest

from hivla.actions.tokenizers.dct import dct, idct


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_dct_matrix_is_orthonormal(n):
    d = dct(np.eye(n))  # (n, n): column t is the transform of the unit impulse at t
    np.testing.assert_allclose(d @ d.T, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(idct(d), np.eye(n), atol=1e-12)


def test_dct_matches_the_textbook_sum():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 2))
    n = x.shape[0]
    expected = np.zeros_like(x)
    for k in range(n):
        scale = np.sqrt(1.0 / n) if k == 0 else np.sqrt(2.0 / n)
        for t in range(n):
            expected[k] += scale * x[t] * np.cos(np.pi * (2 * t + 1) * k / (2 * n))
    np.testing.assert_allclose(dct(x), expected, atol=1e-12)
    np.testing.assert_allclose(idct(dct(x)), x, atol=1e-12)


def test_constant_signal_has_only_a_dc_coefficient():
    c = dct(np.full((16, 1), 0.5))
    assert c[0, 0] == pytest.approx(0.5 * np.sqrt(16))
    np.testing.assert_allclose(c[1:], 0.0, atol=1e-12)


def test_dct_length_zero_is_rejected():
    with pytest.raises(ValueError, match="DCT length"):
        dct(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="DCT length"):
        idct(np.zeros((0,)))
