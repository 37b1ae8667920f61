"""Progress of a long job: a rich bar in a terminal, a plain line every few seconds otherwise.

A line reads ``NAME 120/500 episodes  2.3/s  left 2m45s  dropped 3``: what is done, the rate since
the start, the time left at that rate, and the job's own fields.
"""

from __future__ import annotations

import sys
import time
from typing import Any

LINE_SECONDS = 5.0


def format_seconds(seconds: float) -> str:
    """``3h02m``, ``2m45s`` or ``12s``."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class JobProgress:
    """``update(done, **fields)`` as the job advances; use as a context manager (or ``close()``).

    ``quiet`` shows nothing; ``terminal`` (default: whether stdout is one) picks the bar over lines.
    """

    def __init__(
        self,
        name: str,
        total: int,
        unit: str = "items",
        quiet: bool = False,
        terminal: bool | None = None,
        line_seconds: float = LINE_SECONDS,
        **fields: Any,
    ) -> None:
        self.name, self.total, self.unit, self.quiet = name, total, unit, quiet
        self.line_seconds, self.fields = line_seconds, dict(fields)
        self.done, self.start_done = 0, 0
        self.started = self._last_line = time.monotonic()
        self._bar: Any = None
        if not quiet and (sys.stdout.isatty() if terminal is None else terminal):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[extra]}"),
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task(name, total=total, extra=self._extra())

    def _extra(self) -> str:
        return "  ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.fields.items())

    def rate(self) -> float:
        """Items per second since the start (or since the first ``update`` that set ``start``)."""
        elapsed = time.monotonic() - self.started
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        extra = self._extra()
        text = f"{self.name} {self.done}/{self.total} {self.unit}  {rate:.2f}/s  left {format_seconds(left)}"
        return f"{text}  {extra}" if extra else text

    def begin_at(self, done: int) -> None:
        """Work already done before this run (a resumed job): shown, but not counted in the rate."""
        self.done = self.start_done = done

    def update(self, done: int, **fields: Any) -> None:
        self.done = done
        self.fields.update(fields)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=done, extra=self._extra())
            return
        now = time.monotonic()
        if now - self._last_line >= self.line_seconds or done >= self.total:
            self._last_line = now
            print(self.line(), flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
