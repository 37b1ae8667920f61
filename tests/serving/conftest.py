"""Fixtures of the serving tests: a debug VLA trained for two steps, and `hivla serve` started as a
real process (port 0, the URL read from its output) and stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest


@pytest.fixture(scope="session")
def debug_run(tmp_path_factory):
    """A native-action VLA (debug preset: flow head, chunk 4) trained for two steps on synthetic frames."""
    out = tmp_path_factory.mktemp("serving") / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hivla.cli.main", "train", "--preset", "debug", "--steps", "2", "--threads", "1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


class Served:
    """A running `hivla serve`: its URL, and its output once stopped."""

    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]) -> None:
        self.proc, self.url, self.lines = proc, url, lines

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code (the server closes its connections and exits cleanly)."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    @property
    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def serve():
    """``serve(policy, *args, env=...)``: a context manager running `hivla serve` (see :func:`serving`)."""
    return serving


@contextmanager
def serving(policy: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0):
    """Start `hivla serve POLICY --port 0 ARGS`, yield a :class:`Served` once it listens, stop it after."""
    cmd = [sys.executable, "-m", "hivla.cli.main", "serve", policy, "--port", "0", "--threads", "1", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}
    )
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "listening on ws://" in line and not url:
                url.append(line.split("listening on ")[1].split()[0])
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.2) and time.monotonic() < deadline:
        pass
    if not url:
        proc.kill()
        raise AssertionError(f"hivla serve did not start:\n{''.join(lines)[-3000:]}")
    served = Served(proc, url[0], lines)
    try:
        yield served
    finally:
        if proc.poll() is None:
            served.stop()
        reader.join(timeout=10)
