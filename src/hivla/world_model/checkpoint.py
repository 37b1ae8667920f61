"""World-model checkpoints: a directory with the config, safetensors weights and normalization stats.

    world_model.json     {"format": "hivla.world_model", "format_version", "kind", "config": {...}}
    model.safetensors    weights (the JEPA target encoder and the buffers included)
    assets/stats.json    action and state statistics (``hivla.data.NormStats``)

Never a pickle. Inside a training run they live in ``<run>/checkpoints/step_*/`` next to the
trainer's ``train_state/`` (``hivla.training.checkpoint``); ``checkpoints/latest`` names the newest.
"""

from __future__ import annotations

from pathlib import Path

import torch

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.data.stats import NormStats
from hivla.utils.serialization import config_from_dict, config_to_dict
from hivla.world_model.config import WorldModelConfig
from hivla.world_model.model import WORLD_MODELS, WorldModel

FORMAT = "hivla.world_model"
FORMAT_VERSION = 1
META_FILE = "world_model.json"
WEIGHTS_FILE = "model.safetensors"
STATS_FILE = "assets/stats.json"
WORLD_MODEL_FORMAT = CheckpointFormat(
    FORMAT, FORMAT_VERSION, META_FILE, "world-model checkpoint", "`hivla train-world-model`"
)


def save_world_model(
    model: WorldModel, path: str | Path, weights: dict[str, torch.Tensor] | None = None
) -> Path:
    """Write ``model`` (or ``weights`` in its place) as a checkpoint directory; return it."""
    out = Path(path)
    WORLD_MODEL_FORMAT.write_meta(out, {"kind": model.kind, "config": config_to_dict(model.config)})
    save_weights(weights if weights is not None else model.state_dict(), out / WEIGHTS_FILE)
    (out / STATS_FILE).parent.mkdir(parents=True, exist_ok=True)
    model.stats.save(out / STATS_FILE)
    return out


def resolve_world_model(path: str | Path) -> Path:
    """A checkpoint directory, or a run directory (-> its latest checkpoint). Raises FileNotFoundError."""
    return WORLD_MODEL_FORMAT.resolve(path, "`hivla train-world-model`")


def read_meta(path: Path) -> tuple[str, WorldModelConfig]:
    meta = WORLD_MODEL_FORMAT.read_meta(path)
    return meta["kind"], config_from_dict(WorldModelConfig, meta["config"])


def load_world_model(path: str | Path, device: str | torch.device = "cpu") -> WorldModel:
    """Load a world model from a checkpoint or run directory, in eval mode on ``device``."""
    ckpt = resolve_world_model(path)
    kind, config = read_meta(ckpt)
    stats = NormStats.load(ckpt / STATS_FILE)
    model = WORLD_MODELS.get(kind)(config, stats)
    model.load_state_dict(load_weights(ckpt / WEIGHTS_FILE), strict=True)
    return model.to(device).eval()
