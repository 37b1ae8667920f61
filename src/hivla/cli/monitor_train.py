"""Train the subtask monitor (learned success detector) on a recorded dataset's subtask boundaries.

Example: hivla monitor train --data data/mixed --out runs/monitor
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Train the subtask monitor; report frame-level precision/recall on held-out episodes."""

    data: Path
    """A dataset written by `hivla collect` with chains of 2 or more subtasks (they have boundaries)."""
    out: Path = Path("runs/monitor")
    steps: int = 800
    val_fraction: float = 0.2
    resume: bool = False
    """Continue the training run in --out (its checkpoints/) exactly where it stopped."""


def run(cfg: Config, quiet: bool = False) -> dict:
    import time

    from hivla.data import ChunkDataset, EpisodeFilter, LoaderConfig
    from hivla.planning.monitor import MonitorConfig, SubtaskMonitor, monitor_examples
    from hivla.utils.threads import limit_threads

    limit_threads()
    start = time.time()
    mcfg = MonitorConfig(steps=cfg.steps)

    def examples(split: str):
        flt = EpisodeFilter(split=split, val_fraction=cfg.val_fraction)
        return monitor_examples(
            ChunkDataset(cfg.data, LoaderConfig(horizon=1, filter=flt)), mcfg.after_boundary, mcfg.ambiguous
        )

    train, val = examples("train"), examples("val")
    if float(train.labels.sum()) == 0:
        raise ValueError(
            f"{cfg.data} has no subtask boundaries: collect chains of 2+ subtasks (e.g. tabletop-mixed)"
        )
    monitor = SubtaskMonitor(mcfg)
    losses = monitor.fit(train, log_every=0 if quiet else 100, out=cfg.out, resume=cfg.resume, val=val)
    monitor.save(cfg.out)
    result = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "final_loss": losses[-1] if losses else None,
              "train": monitor.evaluate(train), "val": monitor.evaluate(val),
              "seconds": round(time.time() - start, 1)}  # fmt: skip
    (cfg.out / "metrics.json").write_text(json.dumps(result, indent=2))
    if not quiet:
        for split in ("train", "val"):
            m = result[split]
            print(
                f"{split}: accuracy {m['accuracy']:.1%}, precision {m['precision']:.1%}, recall {m['recall']:.1%}"
            )
        print(f"monitor saved to {cfg.out}")
    return result
