"""Summarize a dataset: episodes, frames, features, tasks and normalization statistics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Print what a dataset (LeRobot v3 layout, hivla or plain) holds."""

    root: tyro.conf.Positional[Path]
    """Dataset directory."""
    verify: bool = False
    """Also read every data file and decode every video (slow; finds corrupt files)."""


def run(cfg: Config, quiet: bool = False) -> dict:
    from collections import Counter

    from hivla.data.meta import DatasetMeta

    meta = DatasetMeta.load(cfg.root)
    eps = meta.episodes
    out = {
        "root": str(cfg.root),
        "codebase_version": meta.info.get("codebase_version"),
        "hivla_format_version": meta.hivla_version,
        "fps": meta.fps,
        "episodes": len(eps),
        "frames": meta.total_frames,
        "tasks": len(meta.tasks),
        "features": {k: {"dtype": f["dtype"], "shape": f["shape"]} for k, f in meta.features.items()},
        "by_chain_length": dict(Counter(str(e.get("hivla/chain_length", "?")) for e in eps)),
        "by_source": dict(Counter(_source(e) for e in eps)),
        "stats": {
            k: {"mean": _short(v["mean"]), "std": _short(v["std"])}
            for k, v in meta.stats.items()
            if "mean" in v
        },
    }
    if cfg.verify:
        from hivla.data.reader import FrameTable, VideoCache

        FrameTable(meta, eps)
        cache = VideoCache(meta, max_bytes=0)
        for e in eps:
            for k in meta.video_keys:
                cache.decode(e, k)
        out["verified"] = True
    if not quiet:
        _print(out)
    return out


def _source(episode: dict) -> str:
    """Where an episode came from (``hivla/source``); hivla episodes recorded before the column
    existed are the scripted expert's, episodes recorded elsewhere are unknown."""
    if episode.get("hivla/source"):
        return str(episode["hivla/source"])
    return "expert" if "hivla/seed" in episode else "unknown"


def _short(values, n: int = 4) -> str:
    import numpy as np

    flat = np.asarray(values, dtype=float).reshape(-1)
    more = " ..." if len(flat) > n else ""
    return "[" + ", ".join(f"{v:.3g}" for v in flat[:n]) + more + "]"


def _print(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{out['root']}[/bold]: {out['episodes']} episodes, {out['frames']} frames at {out['fps']} fps, "
        f"{out['tasks']} tasks (LeRobot {out['codebase_version']}, hivla format {out['hivla_format_version']})"
    )
    console.print(f"episodes by chain length: {out['by_chain_length']}; by source: {out['by_source']}")
    table = Table(title="features")
    for col in ("feature", "dtype", "shape", "mean", "std"):
        table.add_column(col)
    for k, f in out["features"].items():
        s = out["stats"].get(k, {})
        table.add_row(k, f["dtype"], str(f["shape"]), s.get("mean", ""), s.get("std", ""))
    console.print(table)
    if not out["stats"]:
        console.print("no stats yet: run `hivla data stats DIR`")
    if out.get("verified"):
        console.print("verified: every data file reads and every video decodes with the right frame count")
