"""World-model checkpoints: a directory with the config, safetensors weights and normalization stats.

    world_model.json     {"format": "hivla.world_model", "format_version", "kind", "config": {...}}
    model.safetensors    weights (the JEPA target encoder and the buffers included)
    assets/stats.json    action and state statistics (``hivla.data.NormStats``)

Never a pickle. Inside a training run they live in ``<run>/checkpoints/step_*/`` next to the
trainer's ``train_state/`` (``hivla.training.checkpoint``); ``checkpoints/latest`` names the newest.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from hivla.data.stats import NormStats
from hivla.utils.serialization import config_from_dict, config_to_dict
from hivla.world_model.config import WorldModelConfig
from hivla.world_model.model import WORLD_MODELS, WorldModel

FORMAT = "hivla.world_model"
FORMAT_VERSION = 1
META_FILE = "world_model.json"
WEIGHTS_FILE = "model.safetensors"
STATS_FILE = "assets/stats.json"
LATEST_FILE = "latest"


def save_world_model(
    model: WorldModel, path: str | Path, weights: dict[str, torch.Tensor] | None = None
) -> Path:
    """Write ``model`` (or ``weights`` in its place) as a checkpoint directory; return it."""
    from safetensors.torch import save_file

    out = Path(path)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "config": config_to_dict(model.config),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2))
    state = weights if weights is not None else model.state_dict()
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(out / WEIGHTS_FILE))
    model.stats.save(out / STATS_FILE)
    return out


def resolve_world_model(path: str | Path) -> Path:
    """A checkpoint directory, or a run directory (-> its latest checkpoint). Raises FileNotFoundError."""
    p = Path(path)
    if (p / META_FILE).is_file():
        return p
    latest = p / "checkpoints" / LATEST_FILE
    if latest.is_file():
        ckpt = p / "checkpoints" / latest.read_text().strip()
        if (ckpt / META_FILE).is_file():
            return ckpt
    raise FileNotFoundError(
        f"{p} is neither a world-model checkpoint (no {META_FILE}) nor a `hivla train-world-model` run "
        f"directory (no checkpoints/{LATEST_FILE}); pass the --out directory of `hivla train-world-model`"
    )


def read_meta(path: Path) -> tuple[str, WorldModelConfig]:
    meta_path = path / META_FILE
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_path} is {meta.get('format')!r} version {meta.get('format_version')}; this hivla reads "
            f"{FORMAT!r} version {FORMAT_VERSION}. Use the hivla version that wrote it or retrain."
        )
    return meta["kind"], config_from_dict(WorldModelConfig, meta["config"])


def load_world_model(path: str | Path, device: str | torch.device = "cpu") -> WorldModel:
    """Load a world model from a checkpoint or run directory, in eval mode on ``device``."""
    from safetensors.torch import load_file

    ckpt = resolve_world_model(path)
    kind, config = read_meta(ckpt)
    stats = NormStats.load(ckpt / STATS_FILE)
    model = WORLD_MODELS.get(kind)(config, stats)
    model.load_state_dict(load_file(str(ckpt / WEIGHTS_FILE)), strict=True)
    return model.to(device).eval()
