"""Statistics helpers and config validation."""

import numpy as np
import pytest

from hivla.registry import UnknownNameError
from hivla.world_model import WM_PRESETS, WorldModelConfig, get_wm_preset
from hivla.world_model.stats import auroc, bootstrap_ci, ranks, spearman


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


def test_presets_and_config_errors():
    assert WM_PRESETS.names() == ["debug", "default", "quick"]
    assert get_wm_preset("debug", "latent").model.kind == "latent"
    with pytest.raises(UnknownNameError, match="available: debug, default, quick"):
        get_wm_preset("quik")
    with pytest.raises(ValueError, match="multiple of 16"):
        WorldModelConfig(image_size=40)
    with pytest.raises(ValueError, match="kind must be one of"):
        WorldModelConfig(kind="diffusion")
