"""The policy interface, the policy registry and the checkpoint format.

A policy checkpoint is a directory::

    policy.json          {"format": "hivla.policy", "format_version", "policy": <name>, "config": {...}}
    model.safetensors    weights (frozen pretrained weights excluded: they are reloaded from their package)
    assets/              processor assets: normalization statistics, tokenizer

Never a pickle. :func:`load_policy` reads it (or a run directory, taking its latest checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.registry import Registry
from hivla.utils.serialization import config_from_dict, config_to_dict

FORMAT_VERSION = 1
POLICY_FILE = "policy.json"
WEIGHTS_FILE = "model.safetensors"
POLICY_FORMAT = CheckpointFormat(
    "hivla.policy", FORMAT_VERSION, POLICY_FILE, "policy checkpoint", "`hivla train` or `BasePolicy.save`"
)
ASSETS_DIR = "assets"

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
        out = Path(path)
        POLICY_FORMAT.write_meta(out, {"policy": self.name, "config": config_to_dict(self.config)})
        save_weights(weights if weights is not None else self.weights(), out / WEIGHTS_FILE)
        self.processor.save(out / ASSETS_DIR)
        return out


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, or a run directory (-> its latest checkpoint). Raises FileNotFoundError."""
    return POLICY_FORMAT.resolve(path, "`hivla train`")


def read_policy_meta(path: str | Path) -> tuple[type[BasePolicy], Any]:
    """(policy class, config) stored in a checkpoint directory."""
    meta = POLICY_FORMAT.read_meta(path)
    cls = POLICIES.get(meta["policy"])
    return cls, config_from_dict(cls.config_cls, meta["config"])


def load_policy(path: str | Path, device: str | torch.device = "cpu") -> BasePolicy:
    """Load a policy from a checkpoint or run directory, in eval mode on ``device``."""
    ckpt = resolve_checkpoint(path)
    cls, config = read_policy_meta(ckpt)
    processor = cls.processor_cls.load(config, ckpt / ASSETS_DIR)
    policy = cls(config, processor)
    policy.load_weights(load_weights(ckpt / WEIGHTS_FILE))
    return policy.to(device).eval()
