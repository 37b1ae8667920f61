"""Run logs: TensorBoard scalars, a ``metrics.jsonl`` file and progress (main process only).

Progress is a rich bar in a terminal and a plain line every ``line_seconds`` otherwise (a job's
log file). Without a run directory (``out=None``) only progress is shown.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

LINE_SECONDS = 10.0


class RunLogger:
    """``log(step, metrics)`` writes scalars; ``advance`` moves the progress (loss, samples/s)."""

    def __init__(
        self,
        out: Path | None,
        total: int,
        enabled: bool = True,
        quiet: bool = False,
        name: str = "train",
        line_seconds: float = LINE_SECONDS,
        batch_size: int = 0,
    ) -> None:
        self.out = Path(out) if out is not None else None
        self.total, self.enabled, self.quiet, self.name = total, enabled, quiet, name
        self.line_seconds, self.batch_size = line_seconds, batch_size
        self._writer: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._sps = 0.0
        self._last_line = 0.0
        self._start = (0, 0.0)  # (step, time) progress counts samples/s from

    def start(self, step: int) -> None:
        if not self.enabled:
            return
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.out / "tensorboard"), purge_step=step if step else None)
        self._last_line = time.monotonic()
        self._start = (step, self._last_line)
        if not self.quiet and sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn(f"[bold]{self.name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("loss {task.fields[loss]:.4f}  {task.fields[sps]:.1f} samples/s"),
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(
                self.name, total=self.total, completed=step, loss=float("nan"), sps=0.0
            )

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled or not metrics:
            return
        self._sps = metrics.get("train/samples_per_s", self._sps)
        if self.out is None:
            return
        for key, value in metrics.items():
            self._writer.add_scalar(key, float(value), step)
        with (self.out / "metrics.jsonl").open("a") as f:
            f.write(json.dumps({"step": step, **{k: float(v) for k, v in metrics.items()}}) + "\n")

    def advance(self, step: int, metrics: dict[str, float]) -> None:
        loss = metrics.get("loss", float("nan"))
        if self.batch_size and step > self._start[0]:  # mean since start (else: the last logged rate)
            elapsed = max(time.monotonic() - self._start[1], 1e-9)
            self._sps = self.batch_size * (step - self._start[0]) / elapsed
        if self._progress is not None:
            self._progress.update(self._task, completed=step, loss=loss, sps=self._sps)
            return
        if not self.enabled or self.quiet:
            return
        now = time.monotonic()
        if now - self._last_line >= self.line_seconds or step == self.total:
            from hivla.utils.progress import format_seconds

            self._last_line = now
            rate = (step - self._start[0]) / max(now - self._start[1], 1e-9)  # steps/s since start
            left = format_seconds((self.total - step) / rate) if rate > 0 else "?"
            print(
                f"{self.name} step {step}/{self.total}  loss {loss:.4f}  {self._sps:.1f} samples/s  left {left}",
                flush=True,
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
