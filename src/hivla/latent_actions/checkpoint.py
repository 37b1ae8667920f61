"""Latent-action-model checkpoints: a directory with the config and safetensors weights.

    latent_actions.json  {"format": "hivla.latent_actions", "format_version", "config": {...}}
    model.safetensors    weights (the codebook's usage buffer included)

Never a pickle. Inside a training run they live in ``<run>/checkpoints/step_*/``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.latent_actions.config import LatentActionConfig
from hivla.latent_actions.model import LatentActionModel
from hivla.utils.serialization import config_from_dict, config_to_dict

META_FILE = "latent_actions.json"
WEIGHTS_FILE = "model.safetensors"
LATENT_FORMAT = CheckpointFormat(
    "hivla.latent_actions", 1, META_FILE, "latent action model checkpoint", "`hivla latent train`"
)


def save_latent_model(
    model: LatentActionModel, path: str | Path, weights: dict[str, torch.Tensor] | None = None
) -> Path:
    """Write ``model`` (or ``weights`` in its place) as a checkpoint directory; return it."""
    out = Path(path)
    LATENT_FORMAT.write_meta(out, {"config": config_to_dict(model.cfg)})
    save_weights(weights if weights is not None else model.state_dict(), out / WEIGHTS_FILE)
    return out


def load_latent_model(path: str | Path, device: str | torch.device = "cpu") -> LatentActionModel:
    """A latent action model from a checkpoint or run directory, in eval mode on ``device``."""
    ckpt = LATENT_FORMAT.resolve(path, "`hivla latent train`")
    meta = LATENT_FORMAT.read_meta(ckpt)
    model = LatentActionModel(config_from_dict(LatentActionConfig, meta["config"]))
    model.load_state_dict(load_weights(ckpt / WEIGHTS_FILE), strict=True)
    return model.to(device).eval()
