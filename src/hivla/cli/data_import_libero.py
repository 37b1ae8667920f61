"""Convert LIBERO's HDF5 demonstrations into a hivla dataset (LeRobot v3 layout).

Example:
  hivla data import libero libero_spatial/*_demo.hdf5 --out data/libero-spatial
  hivla train --preset debug --data data/libero-spatial --out runs/libero
  hivla eval --policy runs/libero --suite libero-spatial --embodiment panda-osc
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Each demo of each file becomes one episode: agentview -> front, eye-in-hand -> wrist (the right way
    up), state = end-effector pose + fingers, native OSC actions and their universal form, the file's
    language instruction as the task; embodiment panda-osc, 20 fps (what the libero-* suites run)."""

    files: tyro.conf.Positional[tuple[Path, ...]]
    """LIBERO HDF5 files (<task>_demo.hdf5)."""
    out: Path = Path("data/libero")
    """Dataset directory (created; must not hold a dataset)."""
    codec: str = "libx264"
    """Video encoder (PyAV/FFmpeg name)."""
    crf: int = 20
    """Video quality (constant rate factor; lower is better, 0 lossless for libx264)."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.data.importers.libero import import_libero
    from hivla.data.video import VideoConfig

    out = import_libero(cfg.files, cfg.out, VideoConfig(cfg.codec, cfg.crf))
    if not quiet:
        print(
            f"{out['episodes']} episodes ({out['frames']} frames, {len(out['tasks'])} tasks) in {out['out']}"
        )
    return out
