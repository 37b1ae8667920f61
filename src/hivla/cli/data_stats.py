"""Compute normalization statistics (mean/std/min/max/q01/q99) of a dataset into meta/stats.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Compute statistics over every numeric column and a sample of video frames; save them."""

    root: tyro.conf.Positional[Path]
    """Dataset directory."""
    max_image_frames: int = 2000
    """Video frames sampled (over all episodes) for image statistics."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.data.stats import write_stats

    stats = write_stats(cfg.root, max_image_frames=cfg.max_image_frames)
    out = {"root": str(cfg.root), "features": sorted(stats.features)}
    if not quiet:
        print(f"wrote {cfg.root}/meta/stats.json for {len(stats.features)} features")
    return out
