"""The continuous action-expert interface, shared configuration, input checks, registry and I/O.

An expert maps a conditioning vector from the backbone, cond float[B, D_cond], to a chunk of
normalized actions float[B, H, A]. Training: ``compute_loss(cond, actions, mask)`` with mask
bool[B, H] True where the action is valid (``~batch["action_is_pad"]``), or bool[B, H, A] True where
an action dimension is valid (universal actions of mixed widths: a fixed body's sample has no base
part, ``hivla.types``); inference:
``sample(cond, steps)``. Checkpoints are a directory: ``action_expert.json`` (kind + config)
and ``model.safetensors`` (the state dict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.registry import Registry

FORMAT_VERSION = 1
META_FILE = "action_expert.json"
WEIGHTS_FILE = "model.safetensors"
EXPERT_FORMAT = CheckpointFormat(
    "hivla.action_expert", FORMAT_VERSION, META_FILE, "saved action expert", "`save_action_expert`"
)

ACTION_EXPERTS: Registry[type[ActionExpert]] = Registry("action expert")

_E = TypeVar("_E", bound="type[ActionExpert]")


def register_expert(name: str) -> Callable[[_E], _E]:
    """Register an expert class under ``name`` and record the name on the class."""

    def decorator(cls: _E) -> _E:
        cls.name = name
        ACTION_EXPERTS.add(name, cls)
        return cls

    return decorator


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True)
class ExpertConfig:
    """Sizes every expert shares: cond float[B, cond_dim] -> chunk float[B, horizon, action_dim]."""

    cond_dim: int
    horizon: int
    action_dim: int
    hidden_dim: int = 256  # width of the residual MLP
    depth: int = 3  # number of residual blocks

    def __post_init__(self) -> None:
        for field_name in ("cond_dim", "horizon", "action_dim", "hidden_dim", "depth"):
            _positive_int(field_name, getattr(self, field_name))

    @property
    def chunk_dim(self) -> int:
        return self.horizon * self.action_dim


class ActionExpert(nn.Module):
    """Base class of continuous action heads (flow matching, diffusion, L1 regression).

    Subclasses implement ``compute_loss`` and ``sample``; both validate their inputs with
    :meth:`check_cond` / :meth:`check_batch`.
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type[ExpertConfig]] = ExpertConfig

    def __init__(self, config: ExpertConfig) -> None:
        super().__init__()
        if not isinstance(config, self.config_cls):
            raise ValueError(f"{type(self).__name__} needs a {self.config_cls.__name__}, got {config!r}")
        self.config = config

    def compute_loss(
        self, cond: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scalar training loss for cond float[B, D], actions float[B, H, A], mask bool[B, H] or bool[B, H, A]."""
        raise NotImplementedError

    def sample(
        self,
        cond: torch.Tensor,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw one chunk float32[B, H, A] (normalized) per row of cond float[B, D]. ``noise``
        float[B, H, A]: the starting noise of a sampler that draws one (instead of ``generator``), so
        that an exported graph can take it as an input."""
        raise NotImplementedError

    # -- input checks ---------------------------------------------------------------------------
    def check_cond(self, cond: Any) -> torch.Tensor:
        """Raise ValueError unless cond is a finite float tensor [B, cond_dim]."""
        cfg = self.config
        if not isinstance(cond, torch.Tensor):
            raise ValueError(
                f"cond must be a torch.Tensor float[B, {cfg.cond_dim}], got {type(cond).__name__}"
            )
        if cond.ndim != 2 or cond.shape[1] != cfg.cond_dim or cond.shape[0] < 1:
            raise ValueError(f"cond must have shape [B, {cfg.cond_dim}], got {tuple(cond.shape)}")
        if not torch.isfinite(cond).all():
            raise ValueError("cond contains NaN or inf")
        return cond.float()

    def check_batch(
        self, cond: Any, actions: Any, mask: Any | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validate a training batch; return (cond, actions, mask) with mask bool[B, H] (all True if
        None) or bool[B, H, A] (valid per action dimension)."""
        cfg = self.config
        cond = self.check_cond(cond)
        batch = cond.shape[0]
        expected = (batch, cfg.horizon, cfg.action_dim)
        if not isinstance(actions, torch.Tensor) or tuple(actions.shape) != expected:
            got = tuple(actions.shape) if isinstance(actions, torch.Tensor) else type(actions).__name__
            raise ValueError(f"actions must be a tensor of shape [B, H, A] = {expected}, got {got}")
        if not torch.isfinite(actions).all():
            raise ValueError("actions contain NaN or inf (pad with finite values and mask them out)")
        if mask is None:
            mask = torch.ones(batch, cfg.horizon, dtype=torch.bool, device=actions.device)
        elif not isinstance(mask, torch.Tensor) or tuple(mask.shape) not in ((batch, cfg.horizon), expected):
            got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise ValueError(
                f"mask must be a bool tensor of shape [B, H] = {(batch, cfg.horizon)} or [B, H, A] = "
                f"{expected}, got {got}"
            )
        return cond, actions.float(), mask.bool()

    def resolve_steps(self, steps: int | None, default: int) -> int:
        if steps is None:
            return default
        _positive_int("steps", steps)
        return steps


def masked_mean(err: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of err float[B, H, A] over the valid steps mask bool[B, H], or the valid entries mask
    bool[B, H, A]; 0 if nothing is valid."""
    if mask.ndim == 3:
        weights = mask.to(err.dtype)  # (B, H, A)
        return (err * weights).sum() / weights.sum().clamp(min=1.0)
    weights = mask.to(err.dtype).unsqueeze(-1)  # (B, H, 1)
    denom = (weights.sum() * err.shape[-1]).clamp(min=1.0)
    return (err * weights).sum() / denom


def make_action_expert(
    name: str, cond_dim: int, horizon: int, action_dim: int, **kwargs: Any
) -> ActionExpert:
    """Build an expert by registered name; ``kwargs`` are further fields of its config."""
    cls = ACTION_EXPERTS.get(name)
    return cls(cls.config_cls(cond_dim=cond_dim, horizon=horizon, action_dim=action_dim, **kwargs))


def save_action_expert(expert: ActionExpert, path: str | Path) -> Path:
    """Write ``action_expert.json`` (kind + config) and ``model.safetensors`` into directory ``path``."""
    out = Path(path)
    EXPERT_FORMAT.write_meta(out, {"kind": expert.name, "config": asdict(expert.config)})
    save_weights(expert.state_dict(), out / WEIGHTS_FILE)
    return out


def load_action_expert(path: str | Path, device: str | torch.device = "cpu") -> ActionExpert:
    """Rebuild an expert saved by :func:`save_action_expert` (strict state-dict load)."""
    meta = EXPERT_FORMAT.read_meta(path)
    cls = ACTION_EXPERTS.get(meta["kind"])
    expert = cls(cls.config_cls(**meta["config"]))
    expert.load_state_dict(load_weights(Path(path) / WEIGHTS_FILE, device))
    return expert.to(device)
