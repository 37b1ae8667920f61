"""Normalization statistics: mean/std/min/max and the quantiles LeRobot writes (q01, q10, q50, q90,
q99) per feature, saved to ``meta/stats.json``; per-episode statistics for ``meta/episodes``.

The same JSON (``NormStats.save``/``load``) is a checkpoint asset, so serving normalizes exactly
as training did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hivla.data import format as fmt
from hivla.data.meta import DatasetMeta, atomic_write_json
from hivla.data.reader import FrameTable, VideoCache

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}  # LeRobot's set
STAT_NAMES = ("mean", "std", "min", "max", *QUANTILES)
SKIP = (*fmt.LEROBOT_INDEX_COLUMNS, fmt.SUBTASK_INDEX)


@dataclass(frozen=True, eq=False)
class FeatureStats:
    """Per-dimension statistics of one feature (arrays broadcast against the feature's last axes)."""

    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    q01: np.ndarray
    q10: np.ndarray
    q50: np.ndarray
    q90: np.ndarray
    q99: np.ndarray
    count: int = 0

    @classmethod
    def of(cls, x: np.ndarray) -> FeatureStats:
        """Statistics over axis 0 of ``x`` float[N, ...]."""
        x = np.asarray(x, np.float64)
        qs = np.quantile(x, list(QUANTILES.values()), axis=0)  # (5, ...)
        return cls(x.mean(0), x.std(0), x.min(0), x.max(0), *qs, count=len(x))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureStats:
        """Stats without quantiles (older LeRobot, hivla format 1 lacks q10/q50/q90) get stand-ins:
        q01/q99 fall back to min/max, q10/q90 to q01/q99, q50 to the mean."""
        d = dict(d)
        for key, fallback in (
            ("q01", "min"),
            ("q99", "max"),
            ("q10", "q01"),
            ("q90", "q99"),
            ("q50", "mean"),
        ):
            d.setdefault(key, d[fallback])
        arrays = {k: np.asarray(d[k], np.float32) for k in STAT_NAMES}
        return cls(**arrays, count=int(np.asarray(d.get("count", 0)).reshape(-1)[0]))

    def to_dict(self) -> dict[str, Any]:
        return {**{k: np.asarray(getattr(self, k)).tolist() for k in STAT_NAMES}, "count": [self.count]}


@dataclass(frozen=True, eq=False)
class NormStats:
    """Feature name -> :class:`FeatureStats`. JSON round-trips through ``save``/``load``."""

    features: dict[str, FeatureStats]

    def __getitem__(self, key: str) -> FeatureStats:
        if key not in self.features:
            raise KeyError(f"no normalization stats for {key!r}; have {sorted(self.features)}")
        return self.features[key]

    def __contains__(self, key: object) -> bool:
        return key in self.features

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() for k, v in self.features.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NormStats:
        return cls(
            {k: FeatureStats.from_dict(v) for k, v in d.items() if isinstance(v, dict) and "mean" in v}
        )

    def save(self, path: str | Path) -> None:
        atomic_write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> NormStats:
        """Load ``stats.json`` (a dataset's ``meta/stats.json`` or a checkpoint asset)."""
        path = Path(path)
        if path.is_dir():
            path = path / fmt.STATS_PATH
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no stats file; run `hivla data stats DIR` on the dataset first")
        return cls.from_dict(json.loads(path.read_text()))


def compute_stats(root: str | Path, max_image_frames: int = 2000, seed: int = 0) -> NormStats:
    """Statistics of every numeric column (all frames) and every camera (a frame sample).

    Images are per channel in [0, 1], shaped [3, 1, 1] to broadcast against (3, H, W).
    """
    meta = DatasetMeta.load(root)
    frames = FrameTable(meta, meta.episodes)
    out: dict[str, FeatureStats] = {}
    for key, col in frames.columns.items():
        if key in SKIP or col.dtype in (object, bool):
            continue
        if key.startswith(fmt.DEPTH_PREFIX):
            out[key] = depth_stats(col)
            continue
        x = np.asarray(col, np.float64)
        out[key] = FeatureStats.of(x.reshape(len(x), -1) if x.ndim > 1 else x[:, None])
    rng = np.random.default_rng(seed)
    per_ep = max(1, max_image_frames // max(1, len(meta.episodes)))
    cache = VideoCache(meta, max_bytes=0)
    for key in meta.camera_keys:
        pixels = []
        for e in meta.episodes:
            video = cache.decode(e, key)  # (T, H, W, 3)
            pick = rng.choice(len(video), size=min(per_ep, len(video)), replace=False)
            sub = video[pick, ::2, ::2].reshape(-1, 3)  # every other pixel is plenty for statistics
            pixels.append(sub[rng.choice(len(sub), size=min(len(sub), 4096), replace=False)])
        px = np.concatenate(pixels).astype(np.float64) / 255.0
        s = FeatureStats.of(px)
        out[key] = FeatureStats(
            *(np.asarray(getattr(s, k)).reshape(3, 1, 1) for k in STAT_NAMES), count=s.count
        )
    return NormStats(out)


def depth_stats(units: np.ndarray, max_values: int = 200_000) -> FeatureStats:
    """Statistics of depth maps stored as uint16 millimetres [N, ...], in metres over all pixels (an
    even subsample of at most ``max_values``), shaped [1, 1, 1] to broadcast against (1, H, W)."""
    flat = np.asarray(units).reshape(-1)
    step = max(1, len(flat) // max_values)
    s = FeatureStats.of(fmt.units_to_depth(flat[::step]).astype(np.float64)[:, None])  # (n, 1)
    return FeatureStats(*(np.asarray(getattr(s, k)).reshape(1, 1, 1) for k in STAT_NAMES), count=len(units))


def write_stats(root: str | Path, **kwargs: Any) -> NormStats:
    """Compute statistics and save them to ``meta/stats.json``."""
    stats = compute_stats(root, **kwargs)
    DatasetMeta.load(root).write_stats(stats.to_dict())
    return stats


def episode_stats(
    columns: dict[str, Any], images: dict[str, np.ndarray], max_frames: int = 100
) -> dict[str, Any]:
    """One episode's statistics as LeRobot's ``meta/episodes`` columns ``stats/<feature>/<stat>``.

    columns: feature -> values [T] or [T, D] (strings are skipped, bools count as 0/1; depth maps
    get one statistic over all pixels, in metres: :func:`depth_stats`);
    images: feature -> uint8[T, H, W, 3], sampled at up to ``max_frames`` evenly spaced frames
    and every other pixel, per channel in [0, 1] with shape [3, 1, 1] (as in ``stats.json``).
    """
    out: dict[str, Any] = {}
    for key, values in columns.items():
        x = np.asarray(values)
        if x.dtype == object or x.dtype.kind in "USO":
            continue
        if key.startswith(fmt.DEPTH_PREFIX):
            out.update(_flat(key, depth_stats(x, max_values=50_000), (1, 1, 1)))
            continue
        x = x.astype(np.float64)
        s = FeatureStats.of(x if x.ndim > 1 else x[:, None])
        out.update(_flat(key, s, (-1,)))
    for key, video in images.items():
        pick = np.unique(np.linspace(0, len(video) - 1, min(max_frames, len(video))).round().astype(int))
        px = video[pick, ::2, ::2].reshape(-1, 3).astype(np.float64) / 255.0  # (N, 3)
        s = FeatureStats.of(px)
        out.update(_flat(key, FeatureStats(*(getattr(s, k) for k in STAT_NAMES), count=len(pick)), (3, 1, 1)))
    return out


def _flat(key: str, s: FeatureStats, shape: tuple[int, ...]) -> dict[str, Any]:
    row = {f"stats/{key}/{k}": _float32_list(getattr(s, k), shape) for k in STAT_NAMES}
    row[f"stats/{key}/count"] = [int(s.count)]
    return row


def _float32_list(x: Any, shape: tuple[int, ...]) -> list:
    """Values at float32 precision, as floats with the shortest repr (they are also stored as JSON
    in every data file's footer: ``0.1``, not ``0.10000000149011612``)."""
    short = [float(str(v)) for v in np.asarray(x, np.float32).ravel()]
    return np.asarray(short, np.float64).reshape(shape).tolist()
