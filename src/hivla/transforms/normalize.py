"""Normalize and unnormalize features with saved statistics (mean/std or q01/q99 quantiles)."""

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
        return (x - _as(x, s.mean)) / (_as(x, s.std) + EPS)
    y = (x - _as(x, s.q01)) / (_as(x, s.q99 - s.q01) + EPS) * 2.0 - 1.0
    return y.clip(-1.0, 1.0) if clip else y


def unnormalize(y: Any, s: FeatureStats, mode: str) -> Any:
    """The inverse of :func:`normalize` (without clipping)."""
    if mode == "mean_std":
        return y * (_as(y, s.std) + EPS) + _as(y, s.mean)
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
