"""Train the subtask monitor (learned success detector) on recorded datasets' subtask boundaries.

Example: hivla monitor train --data data/mixed_floating,data/mixed_arm6 --out runs/monitor
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """Train the subtask monitor on one or more datasets; calibrate its threshold for event-level F1
    on a slice of the training episodes; report frame- and event-level precision/recall on the
    held-out (val) episodes."""

    data: str
    """Dataset directories, comma-separated (e.g. one per embodiment), written by `hivla collect` with
    chains of 2 or more subtasks (they have boundaries)."""
    out: Path = Path("runs/monitor")
    steps: int = 2000
    after_boundary: int = 8
    """Frames after a subtask's end labelled "done" for it (version 1: 3)."""
    ambiguous: int = 0
    """Last frames of a subtask left out of the "running" examples (version 1: 2; they are not done
    yet, so they are the hard negatives)."""
    val_fraction: float = 0.2
    calibration_fraction: float = 0.1
    """Share of the training episodes kept out of training to calibrate the threshold and confirm
    count for event-level F-beta (0: keep 0.5 and 2)."""
    calibration_beta: float = 1.0
    """Beta of the calibrated F-beta: below 1 weighs precision more (an early "done" skips a subtask,
    a late one only waits)."""
    image_size: int | None = None
    """Resize observations to this size (default: the datasets' camera size)."""
    resume: bool = False
    """Continue the training run in --out (its checkpoints/) exactly where it stopped."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.calibration_fraction < 1.0:
            raise ValueError(f"calibration_fraction must be within [0, 1), got {self.calibration_fraction}")
        if self.calibration_beta <= 0:
            raise ValueError(f"calibration_beta must be > 0, got {self.calibration_beta}")


def run(cfg: Config, quiet: bool = False) -> dict:
    import time

    from hivla.cli.monitor_eval import evaluate_monitor, print_metrics
    from hivla.planning.monitor import (
        MonitorConfig,
        SubtaskMonitor,
        data_paths,
        dataset_episodes,
        monitor_examples,
    )
    from hivla.utils.threads import limit_threads

    limit_threads()
    start = time.time()
    paths = data_paths(cfg.data)
    train_eps = dataset_episodes(paths, "train", cfg.val_fraction)
    val_eps = dataset_episodes(paths, "val", cfg.val_fraction)
    calib_eps, fit_eps = _split(train_eps, cfg.calibration_fraction)
    size = cfg.image_size or int(train_eps[0].images.shape[-1])
    mcfg = MonitorConfig(
        steps=cfg.steps, after_boundary=cfg.after_boundary, ambiguous=cfg.ambiguous, image_size=size
    )
    train = monitor_examples(fit_eps, mcfg.after_boundary, mcfg.ambiguous)
    if float(train.labels.sum()) == 0:
        raise ValueError(
            f"{cfg.data} has no subtask boundaries: collect chains of 2+ subtasks (e.g. tabletop-mixed)"
        )
    val = monitor_examples(val_eps, mcfg.after_boundary, mcfg.ambiguous)
    monitor = SubtaskMonitor(mcfg)
    losses = monitor.fit(train, log_every=0 if quiet else 100, out=cfg.out, resume=cfg.resume, val=val)
    calibration = monitor.calibrate(calib_eps, beta=cfg.calibration_beta) if calib_eps else None
    monitor.save(cfg.out)
    result = {"config": {k: str(v) for k, v in asdict(cfg).items()}, "final_loss": losses[-1] if losses else None,
              "calibration": calibration, "train_episodes": len(fit_eps), "val_episodes": len(val_eps),
              "train": monitor.evaluate(train), **_val_metrics(evaluate_monitor(monitor, val_eps)),
              "seconds": round(time.time() - start, 1)}  # fmt: skip
    (cfg.out / "metrics.json").write_text(json.dumps(result, indent=2))
    if not quiet:
        if calibration:
            print(f"calibrated on {len(calib_eps)} training episodes: threshold {calibration['threshold']}, "
                  f"confirm {calibration['confirm']} (event F1 {calibration['f1']:.1%})")  # fmt: skip
        print_metrics(
            {"frame": result["val"], "event": result["val_event"]}, f"val ({len(val_eps)} episodes)"
        )
        print(f"monitor saved to {cfg.out}")
    return result


def _val_metrics(metrics: dict) -> dict:
    """``val`` (frame level, the key version 1 wrote) and ``val_event`` of the held-out episodes."""
    return {"val": metrics["frame"], "val_event": metrics["event"], "threshold": metrics["threshold"],
            "confirm": metrics["confirm"]}  # fmt: skip


def _split(episodes: list, fraction: float) -> tuple[list, list]:
    """(calibration, training) episodes: every round(1/fraction)-th episode calibrates."""
    if fraction <= 0 or len(episodes) < 2:
        return [], episodes
    every = max(2, round(1 / fraction))
    return episodes[::every], [e for i, e in enumerate(episodes) if i % every]
