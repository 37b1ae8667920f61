"""The one normalizer: standardize (mean/std) and map to [-1, 1] (low/high), for numpy arrays and torch
tensors alike, plus the :class:`Normalize` / :class:`Unnormalize` steps over saved statistics.

Every model normalizes through these functions: the VLA processor (state standardized per
embodiment, actions mapped from their q01/q99 to [-1, 1]) and the world models (standardized actions
and states). Statistics given as numpy arrays are used as they are against a numpy input (no cast)
and moved to the tensor's dtype and device against a torch input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hivla.data.stats import FeatureStats, NormStats
from hivla.transforms.base import Sample, present

MODES = ("mean_std", "quantile")
EPS = 1e-6


def _as(x: Any, v: np.ndarray) -> Any:
    return (
        torch.as_tensor(v, dtype=x.dtype, device=x.device)
        if isinstance(x, torch.Tensor)
        else v.astype(x.dtype)
    )


def _like(x: Any, v: Any) -> Any:
    """``v`` as a tensor of ``x``'s dtype and device when ``x`` is a tensor; unchanged otherwise."""
    return torch.as_tensor(v, dtype=x.dtype, device=x.device) if isinstance(x, torch.Tensor) else v


def standardize(x: Any, mean: Any, std: Any) -> Any:
    """(x - mean) / std, per dimension of the last axes (``std`` already floored by the caller)."""
    return (x - _like(x, mean)) / _like(x, std)


def unstandardize(y: Any, mean: Any, std: Any) -> Any:
    """The inverse of :func:`standardize`: y * std + mean."""
    return y * _like(y, std) + _like(y, mean)


def to_unit_range(x: Any, low: Any, high: Any) -> Any:
    """low -> -1, high -> +1 linearly (not clipped): 2 (x - low) / (high - low) - 1."""
    low = _like(x, low)
    return 2.0 * (x - low) / (_like(x, high) - low) - 1.0


def from_unit_range(y: Any, low: Any, high: Any) -> Any:
    """The inverse of :func:`to_unit_range`: (y + 1) / 2 (high - low) + low."""
    low = _like(y, low)
    return (y + 1.0) / 2.0 * (_like(y, high) - low) + low


def _check(mode: str, keys: tuple[str, ...], stats: NormStats) -> None:
    if mode not in MODES:
        raise ValueError(f"normalization mode must be one of {MODES}, got {mode!r}")
    missing = [k for k in keys if k not in stats]
    if missing:
        raise KeyError(
            f"no statistics for {missing}; stats cover {sorted(stats.features)}. Run `hivla data stats`."
        )


def normalize(x: Any, s: FeatureStats, mode: str, clip: bool = False) -> Any:
    """mean_std: (x - mean) / std. quantile: q01 -> -1, q99 -> +1 (optionally clipped to [-1, 1])."""
    if mode == "mean_std":
        return standardize(x, _as(x, s.mean), _as(x, s.std) + EPS)
    y = (x - _as(x, s.q01)) / (_as(x, s.q99 - s.q01) + EPS) * 2.0 - 1.0
    return y.clip(-1.0, 1.0) if clip else y


def unnormalize(y: Any, s: FeatureStats, mode: str) -> Any:
    """The inverse of :func:`normalize` (without clipping)."""
    if mode == "mean_std":
        return unstandardize(y, _as(y, s.mean), _as(y, s.std) + EPS)
    return (y + 1.0) / 2.0 * (_as(y, s.q99 - s.q01) + EPS) + _as(y, s.q01)


@dataclass(frozen=True)
class Normalize:
    """Normalize ``keys`` (e.g. observation.state, action) with ``stats``; absent keys are skipped
    unless ``strict`` (serving has no actions)."""

    stats: NormStats
    keys: tuple[str, ...] = ("observation.state", "action")
    mode: str = "mean_std"
    clip: bool = False
    strict: bool = False

    def __post_init__(self) -> None:
        _check(self.mode, self.keys, self.stats)

    def __call__(self, data: Sample) -> Sample:
        out = dict(data)
        for k in present(data, self.keys, self.strict, "Normalize"):
            out[k] = normalize(data[k], self.stats[k], self.mode, self.clip)
        return out


@dataclass(frozen=True)
class Unnormalize:
    """Map model outputs (e.g. action chunks) back to the data's units."""

    stats: NormStats
    keys: tuple[str, ...] = ("action",)
    mode: str = "mean_std"
    strict: bool = True

    def __post_init__(self) -> None:
        _check(self.mode, self.keys, self.stats)

    def __call__(self, data: Sample) -> Sample:
        out = dict(data)
        for k in present(data, self.keys, self.strict, "Unnormalize"):
            out[k] = unnormalize(data[k], self.stats[k], self.mode)
        return out
