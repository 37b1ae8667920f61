"""Latent actions from action-free video (LAPA, Ye et al. 2024; Genie, Bruce et al. 2024).

- :mod:`~hivla.latent_actions.model`: the latent action model (inverse dynamics to VQ codes, a
  forward model redrawing frame t+k, optional alignment to universal actions);
- :mod:`~hivla.latent_actions.trainer`: ``hivla latent train`` through the trainer core;
- :mod:`~hivla.latent_actions.probe`: linear and MLP probes from latents to universal actions;
- :mod:`~hivla.latent_actions.pretrain`: latent pretraining of the VLA (``hivla latent pretrain``),
  whose weights ``hivla train --init-latent`` fine-tunes with actions.
"""

from hivla.latent_actions.checkpoint import load_latent_model, save_latent_model
from hivla.latent_actions.config import (
    LATENT_PRESETS,
    LatentActionConfig,
    LatentDataConfig,
    LatentExperimentConfig,
)
from hivla.latent_actions.model import LatentActionModel, VectorQuantizer

__all__ = [
    "LATENT_PRESETS",
    "LatentActionConfig",
    "LatentActionModel",
    "LatentDataConfig",
    "LatentExperimentConfig",
    "VectorQuantizer",
    "load_latent_model",
    "save_latent_model",
]
