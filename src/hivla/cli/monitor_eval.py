"""Evaluate a trained subtask monitor on recorded datasets: frame- and event-level precision/recall.

Example: hivla monitor eval --monitor runs/monitor --data data/mixed_floating,data/mixed_arm6
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    """Replay recorded episodes through a monitor as the closed loop would and score its "done"
    reports against the recorded subtask ends (a detection within --tolerance steps counts)."""

    monitor: Path
    """A directory written by `hivla monitor train` (it holds monitor.json)."""
    data: str
    """Dataset directories, comma-separated."""
    split: str = "val"
    """Which episodes: val | train | all (the datasets' seeded episode split)."""
    val_fraction: float = 0.2
    tolerance: int = 3
    out: Path | None = None
    """Write the metrics as JSON here (default: print only)."""

    def __post_init__(self) -> None:
        if self.split not in ("val", "train", "all"):
            raise ValueError(f"split must be val | train | all, got {self.split!r}")
        if self.tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {self.tolerance}")


def evaluate_monitor(monitor: Any, episodes: list, tolerance: int = 3) -> dict[str, Any]:
    """Frame-level figures (on version 1's labels: 3 frames after a boundary, the last 2 before left
    out, at the monitor's threshold) and event-level figures (closed-loop replay) of ``episodes``."""
    from hivla.planning.monitor import REFERENCE_LABELS, monitor_examples

    frames = monitor_examples(episodes, *REFERENCE_LABELS)
    return {
        "frame": monitor.evaluate(frames),
        "event": monitor.event_metrics(episodes, tolerance),
        "threshold": monitor.cfg.threshold,
        "confirm": monitor.cfg.confirm,
    }


def print_metrics(result: dict[str, Any], name: str) -> None:
    f, e = result["frame"], result["event"]
    print(
        f"{name}: frame-level precision {f['precision']:.1%}, recall {f['recall']:.1%}, accuracy {f['accuracy']:.1%}"
    )
    print(f"{name}: event-level precision {e['precision']:.1%}, recall {e['recall']:.1%}, F1 {e['f1']:.1%} "
          f"({e['matched']} matched of {e['detections']} detections, {e['events']} subtask ends)")  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.planning.monitor import SubtaskMonitor, data_paths, dataset_episodes
    from hivla.utils.threads import limit_threads

    limit_threads()
    monitor = SubtaskMonitor.load(cfg.monitor)
    episodes = dataset_episodes(data_paths(cfg.data), cfg.split, cfg.val_fraction)
    result = {"monitor": str(cfg.monitor), "data": cfg.data, "split": cfg.split, "episodes": len(episodes),
              **evaluate_monitor(monitor, episodes, cfg.tolerance)}  # fmt: skip
    if cfg.out is not None:
        cfg.out.parent.mkdir(parents=True, exist_ok=True)
        cfg.out.write_text(json.dumps(result, indent=2))
    if not quiet:
        print_metrics(result, f"{cfg.split} ({len(episodes)} episodes)")
    return result
