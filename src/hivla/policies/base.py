"""The policy interface, the policy registry and the checkpoint format.

A policy checkpoint is a directory::

    policy.json          {"format": "hivla.policy", "format_version", "policy": <name>, "config": {...}}
    model.safetensors    weights (frozen pretrained weights excluded: they are reloaded from their package)
    assets/              processor assets: normalization statistics, tokenizer

Never a pickle. :func:`load_policy` reads it (or a run directory, taking its latest checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn

from hivla.registry import Registry
from hivla.utils.serialization import config_from_dict, config_to_dict

FORMAT_VERSION = 1
POLICY_FILE = "policy.json"
WEIGHTS_FILE = "model.safetensors"
ASSETS_DIR = "assets"
LATEST_FILE = "latest"  # in <run>/checkpoints/: the name of the newest checkpoint directory

POLICIES: Registry[type[BasePolicy]] = Registry("policy")
_P = TypeVar("_P", bound="type[BasePolicy]")


def register_policy(name: str) -> Callable[[_P], _P]:
    def decorator(cls: _P) -> _P:
        cls.name = name
        POLICIES.add(name, cls)
        return cls

    return decorator


class BasePolicy(nn.Module):
    """``compute_loss(batch) -> (loss, metrics)``, ``sample_actions(obs) -> float32[B, H, A]``, ``reset()``.

    ``config`` (frozen dataclass), ``processor`` (normalization assets, tokenizer),
    ``embodiments`` (trained on) and ``action_space`` ("native" | "universal") describe it.
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type] = object
    processor_cls: ClassVar[type] = object

    def __init__(self, config: Any, processor: Any) -> None:
        super().__init__()
        self.config = config
        self.processor = processor

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        return self.compute_loss(batch)

    def compute_loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def sample_actions(self, obs: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        """Start of an episode. The flat VLA keeps no state between calls; wrappers keep queues."""

    def frozen_prefixes(self) -> tuple[str, ...]:
        return ()

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def embodiments(self) -> tuple[str, ...]:
        return tuple(self.config.embodiments)

    @property
    def action_space(self) -> str:
        return self.config.action_space

    @property
    def norm_stats(self) -> dict[str, Any]:
        return self.processor.stats

    # -- checkpoints --------------------------------------------------------------------------------
    def weights(self) -> dict[str, torch.Tensor]:
        """The state dict that checkpoints store (frozen pretrained weights left out)."""
        skip = self.frozen_prefixes()
        return {
            k: v.detach().cpu().contiguous()
            for k, v in self.state_dict().items()
            if not any(k.startswith(p) for p in skip)
        }

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Strict load of :meth:`weights` output (frozen pretrained weights may be absent)."""
        result = self.load_state_dict(state, strict=False)
        skip = self.frozen_prefixes()
        missing = [k for k in result.missing_keys if not any(k.startswith(p) for p in skip)]
        if missing or result.unexpected_keys:
            raise ValueError(
                f"checkpoint weights do not match the {self.name} model built from its config: "
                f"missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}"
            )

    def save(self, path: str | Path, weights: dict[str, torch.Tensor] | None = None) -> Path:
        """Write the checkpoint directory; ``weights`` overrides the live ones (e.g. EMA weights)."""
        from safetensors.torch import save_file

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": "hivla.policy",
            "format_version": FORMAT_VERSION,
            "policy": self.name,
            "config": config_to_dict(self.config),
        }
        (out / POLICY_FILE).write_text(json.dumps(meta, indent=2))
        save_file(weights if weights is not None else self.weights(), str(out / WEIGHTS_FILE))
        self.processor.save(out / ASSETS_DIR)
        return out


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, or a run directory (-> its latest checkpoint). Raises FileNotFoundError."""
    p = Path(path)
    if (p / POLICY_FILE).is_file():
        return p
    latest = p / "checkpoints" / LATEST_FILE
    if latest.is_file():
        return p / "checkpoints" / latest.read_text().strip()
    raise FileNotFoundError(
        f"{p} is neither a policy checkpoint (no {POLICY_FILE}) nor a run directory "
        f"(no checkpoints/{LATEST_FILE}); pass the --out directory of `hivla train` or one of its checkpoints"
    )


def read_policy_meta(path: str | Path) -> tuple[type[BasePolicy], Any]:
    """(policy class, config) stored in a checkpoint directory."""
    meta_path = Path(path) / POLICY_FILE
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_path} has format_version {meta.get('format_version')}; this hivla reads {FORMAT_VERSION}. "
            "Use the hivla version that wrote it."
        )
    cls = POLICIES.get(meta["policy"])
    return cls, config_from_dict(cls.config_cls, meta["config"])


def load_policy(path: str | Path, device: str | torch.device = "cpu") -> BasePolicy:
    """Load a policy from a checkpoint or run directory, in eval mode on ``device``."""
    from safetensors.torch import load_file

    ckpt = resolve_checkpoint(path)
    cls, config = read_policy_meta(ckpt)
    processor = cls.processor_cls.load(config, ckpt / ASSETS_DIR)
    policy = cls(config, processor)
    policy.load_weights(load_file(str(ckpt / WEIGHTS_FILE)))
    return policy.to(device).eval()
