"""World-model presets and config validation."""

import pytest

from hivla.registry import UnknownNameError
from hivla.world_model import WM_PRESETS, WorldModelConfig, get_wm_preset


def test_presets_and_config_errors():
    assert WM_PRESETS.names() == ["debug", "default", "quick"]
    assert get_wm_preset("debug", "latent").model.kind == "latent"
    with pytest.raises(UnknownNameError, match="available: debug, default, quick"):
        get_wm_preset("quik")
    with pytest.raises(ValueError, match="multiple of 16"):
        WorldModelConfig(image_size=40)
    with pytest.raises(ValueError, match="kind must be one of"):
        WorldModelConfig(kind="diffusion")
