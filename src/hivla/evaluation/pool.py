"""Run jobs in worker processes, each with its own expensive state (a simulator, a policy).

``run_pool(make_worker, items, workers)`` calls ``make_worker()`` once per process (so it must be
picklable: a module-level function or a ``functools.partial`` of one), then ``worker(item)`` for
each item of its shard, and yields results as they arrive (order not guaranteed). A worker may
have ``close()``. An exception in a worker is raised again in the caller with its traceback.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any


class WorkerError(RuntimeError):
    """A worker process raised; the message carries its traceback."""


def run_pool(
    make_worker: Callable[[], Callable[[Any], Any]], items: Sequence[Any], workers: int = 1
) -> Iterator[Any]:
    """Yield ``worker(item)`` for every item; ``workers`` > 1 uses that many spawned processes."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    items = list(items)
    if workers == 1 or len(items) <= 1:
        yield from _serial(make_worker, items)
        return
    ctx = mp.get_context("spawn")  # fork would copy GL contexts and torch thread pools
    results = ctx.Queue()
    shards = [items[i::workers] for i in range(workers)]
    procs = [
        ctx.Process(target=_serve, args=(make_worker, shard, results), daemon=True)
        for shard in shards
        if shard
    ]
    for p in procs:
        p.start()
    try:
        for _ in items:
            yield _receive(results, procs)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()


def _serial(make_worker: Callable[[], Callable[[Any], Any]], items: list[Any]) -> Iterator[Any]:
    worker = make_worker()
    try:
        for item in items:
            yield worker(item)
    finally:
        _close(worker)


def _close(worker: Any) -> None:
    close = getattr(worker, "close", None)
    if callable(close):
        close()


def _single_thread() -> None:
    """One BLAS/OpenMP/torch thread per worker: the workers already use the cores."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"  # read by torch and BLAS when they are imported, later in this process
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _serve(make_worker: Callable[[], Callable[[Any], Any]], shard: list[Any], results) -> None:
    _single_thread()
    try:
        worker = make_worker()
        try:
            for item in shard:
                results.put(("ok", worker(item)))
        finally:
            _close(worker)
    except BaseException:
        results.put(("error", traceback.format_exc()))


def _receive(results, procs) -> Any:
    while True:
        try:
            status, payload = results.get(timeout=1.0)
        except queue_mod.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise WorkerError(f"a worker process died with exit code {dead[0].exitcode}") from None
            continue
        if status == "error":
            raise WorkerError(f"a worker process failed:\n{payload}")
        return payload
