"""Run logs: TensorBoard scalars, a ``metrics.jsonl`` file and a rich progress bar (main process only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class RunLogger:
    """``log(step, metrics)`` writes scalars; ``advance`` moves the progress bar (loss, samples/s)."""

    def __init__(self, out: Path, total: int, enabled: bool = True, quiet: bool = False) -> None:
        self.out, self.total, self.enabled, self.quiet = Path(out), total, enabled, quiet
        self._writer: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._sps = 0.0

    def start(self, step: int) -> None:
        if not self.enabled:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(str(self.out / "tensorboard"), purge_step=step if step else None)
        if not self.quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("loss {task.fields[loss]:.4f}  {task.fields[sps]:.1f} samples/s"),
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=self.total, completed=step, loss=float("nan"), sps=0.0
            )

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled or not metrics:
            return
        for key, value in metrics.items():
            self._writer.add_scalar(key, float(value), step)
        self._sps = metrics.get("train/samples_per_s", self._sps)
        with (self.out / "metrics.jsonl").open("a") as f:
            f.write(json.dumps({"step": step, **{k: float(v) for k, v in metrics.items()}}) + "\n")

    def advance(self, step: int, metrics: dict[str, float]) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task, completed=step, loss=metrics.get("loss", float("nan")), sps=self._sps
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
