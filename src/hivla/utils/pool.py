"""Run one job per item on workers that keep expensive state (a simulator, a policy), on this
machine or on a Ray cluster: the one seam of every rollout job (evaluation, collection, DAgger
rounds, experiment sweeps).

:func:`open_pool` gives a :class:`Pool`: ``submit(item)`` queues a job, ``next()`` returns the next
finished result (completion order, not submission order). ``make_worker()`` builds a worker once
per process (so it must be picklable: a module-level function or class, or a ``functools.partial``
of one); ``worker(item)`` runs one job; a worker may have ``close()``. A job must depend only on its
item (an episode's seed), never on what the worker ran before, so that every backend and worker
count gives the same results for the same items. :func:`run_pool` maps a fixed list of items.

Backends (:data:`BACKENDS`):

- ``local`` (the default): in this process for one worker, else that many spawned worker processes
  fed from one queue. An exception in a worker is raised again here (:class:`WorkerError`, with its
  traceback); a worker process that dies ends the job with a :class:`WorkerError`.
- ``ray``: one Ray task per item, at most ``workers`` in flight, each on one CPU of the cluster;
  each Ray worker process builds its worker on its first task of the job and keeps it for the next
  ones (until it runs another job's task, or Ray ends it). A task whose worker process or node is lost is run again (``MAX_RETRIES`` times); an
  exception in the job is not retried. ``address``: None starts a private Ray instance on this
  machine that listens on loopback only (or reuses the one this process already started);
  ``auto`` joins the cluster this machine is a node of; ``ray://HOST:PORT`` connects through Ray
  Client. Ray is an optional dependency, imported only here and only then.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hivla.errors import HivlaError

BACKENDS = ("local", "ray")
RAY_EXTRA = "pip install -e '.[ray]'"  # from a hivla checkout; else pip install 'ray[client]'
MAX_RETRIES = 3  # times a Ray task lost with its worker process or node is run again

MakeWorker = Callable[[], Callable[[Any], Any]]


class WorkerError(RuntimeError):
    """A worker raised or was lost; the message carries its traceback or what happened."""


class BackendError(HivlaError, ValueError):
    """A backend or address that does not exist, or a backend that cannot start here."""


def check_backend(backend: str, address: str | None = None) -> None:
    """Raise :class:`BackendError` for an unknown backend or a malformed or misplaced address."""
    if backend not in BACKENDS:
        raise BackendError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is None or address == "":
        return
    if backend != "ray":
        raise BackendError(
            f"--address {address!r} is for the ray backend: add --backend ray, or drop --address"
        )
    if address != "auto" and not re.fullmatch(r"(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d+", address):
        raise BackendError(
            f"address {address!r} is not a Ray cluster address; expected auto, ray://HOST:PORT (Ray "
            "Client, port 10001 by default) or HOST:PORT (the head's GCS, port 6379 by default)"
        )


class Pool:
    """Jobs in flight on a backend; use as a context manager (``close`` on exit)."""

    pending: int  # submitted and not yet returned by next()

    def submit(self, item: Any) -> None:
        raise NotImplementedError

    def next(self) -> Any:
        """The next finished result; raises :class:`WorkerError` if its job failed."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pool(
    make_worker: MakeWorker, workers: int = 1, backend: str = "local", address: str | None = None
) -> Pool:
    """A pool of ``workers`` on ``backend`` (see the module docstring)."""
    check_backend(backend, address)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if backend == "ray":
        return _RayPool(make_worker, workers, address or None)
    return _SerialPool(make_worker) if workers == 1 else _ProcessPool(make_worker, workers)


def run_pool(
    make_worker: MakeWorker,
    items: Sequence[Any],
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
) -> Iterator[Any]:
    """Yield ``worker(item)`` for every item, in completion order."""
    items = list(items)
    if backend == "local":
        workers = max(1, min(workers, len(items)))  # no process for nothing to do
    with open_pool(make_worker, workers, backend, address) as pool:
        for item in items:
            pool.submit(item)
        for _ in items:
            yield pool.next()


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


# ---- local -----------------------------------------------------------------------------------------
class _SerialPool(Pool):
    """One worker in this process (no spawn cost); jobs run when their result is asked for."""

    def __init__(self, make_worker: MakeWorker) -> None:
        self.make_worker, self.worker = make_worker, None
        self.waiting: collections.deque[Any] = collections.deque()

    @property
    def pending(self) -> int:
        return len(self.waiting)

    def submit(self, item: Any) -> None:
        self.waiting.append(item)

    def next(self) -> Any:
        if not self.waiting:
            raise RuntimeError("next() with no job submitted")
        if self.worker is None:
            self.worker = self.make_worker()
        return self.worker(self.waiting.popleft())

    def close(self) -> None:
        if self.worker is not None:
            _close(self.worker)
            self.worker = None


class _ProcessPool(Pool):
    """``workers`` spawned processes fed from one queue (fork would copy GL contexts and torch
    thread pools)."""

    def __init__(self, make_worker: MakeWorker, workers: int) -> None:
        ctx = mp.get_context("spawn")
        self.tasks, self.results = ctx.Queue(), ctx.Queue()
        self.pending = 0
        self.procs = [
            ctx.Process(target=_serve, args=(make_worker, self.tasks, self.results, os.getpid()), daemon=True)
            for _ in range(workers)
        ]
        for p in self.procs:
            p.start()

    def submit(self, item: Any) -> None:
        self.tasks.put(item)
        self.pending += 1

    def next(self) -> Any:
        if not self.pending:
            raise RuntimeError("next() with no job submitted")
        while True:
            try:
                status, payload = self.results.get(timeout=1.0)
                break
            except queue_mod.Empty:
                dead = [p for p in self.procs if p.exitcode not in (None, 0)]
                if dead:
                    raise WorkerError(f"a worker process died with exit code {dead[0].exitcode}") from None
        self.pending -= 1
        if status == "error":
            raise WorkerError(f"a worker process failed:\n{payload}")
        return payload

    def close(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()


def _serve(make_worker: MakeWorker, tasks, results, parent: int) -> None:
    _single_thread()
    try:
        worker = make_worker()
        try:
            while os.getppid() == parent:  # a killed parent leaves no orphan working forever
                try:
                    item = tasks.get(timeout=1.0)
                except queue_mod.Empty:
                    continue
                if item is None:
                    return
                results.put(("ok", worker(item)))
        finally:
            _close(worker)
    except BaseException:
        results.put(("error", traceback.format_exc()))


# ---- Ray -------------------------------------------------------------------------------------------
def import_ray(address: str | None = None):
    """Ray, connected to ``address`` (see the module docstring); raises :class:`BackendError` when
    Ray is not installed or the cluster cannot be reached. A private instance binds to loopback
    only when this is what first imports Ray in the process (Ray reads the setting on import)."""
    if "ray" not in sys.modules and address is None:
        # Ray reads this when imported: a private instance then binds to 127.0.0.1, not the host's address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray reports no usage unless asked
    try:
        import ray
    except ImportError:
        raise BackendError(
            f"--backend ray needs Ray, which is not installed: {RAY_EXTRA} (or pip install 'ray[client]')"
        ) from None
    if ray.is_initialized():
        return ray
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address is None:
            _start_private(ray, quiet)
        else:
            env = {k: os.environ[k] for k in ("MUJOCO_GL",) if k in os.environ}
            ray.init(address=address, runtime_env={"env_vars": env} if env else None, **quiet)
    except ConnectionError as err:
        raise BackendError(
            f"cannot reach a Ray cluster at {address!r} ({err}); start one (`ray start --head`, or "
            "`ray up cluster.yaml`, see docs/scaling.md) or drop --address to start Ray on this machine"
        ) from None
    return ray


def _start_private(ray, kwargs: dict[str, Any], tries: int = 3) -> None:
    """Start a Ray instance on this machine; Ray gives its processes 30 s to come up, which a
    machine busy with other jobs can miss, so a timed-out start is tried again."""
    for attempt in range(tries):
        try:
            ray.init(include_dashboard=False, **kwargs)
            return
        except Exception as err:  # Ray raises a bare Exception for a start-up time-out
            if "timed out during startup" not in str(err):
                raise
            ray.shutdown()
            if attempt == tries - 1:
                raise BackendError(
                    f"Ray did not start on this machine within its time limit, {tries} times ({err}); "
                    "the machine may be overloaded: try again, or use --backend local"
                ) from None


_REMOTE: dict[str, Any] = {}  # the Ray remote function, made once per driver process
_WORKERS: dict[str, Any] = {}  # in a Ray worker process: pool id -> the worker it built


def _ray_job(pool_id: str, make_worker: MakeWorker, item: Any) -> Any:
    """Runs in a Ray worker process: the pool's worker (built on this process's first job of the
    pool, after closing any other pool's) applied to ``item``."""
    worker = _WORKERS.get(pool_id)
    if worker is None:
        for old in list(_WORKERS):
            _close(_WORKERS.pop(old))
        _single_thread()
        worker = _WORKERS[pool_id] = make_worker()
    return worker(item)


class _RayPool(Pool):
    """One Ray task per item, at most ``workers`` in flight; the others wait here, so the cluster
    never holds more work than asked for."""

    def __init__(self, make_worker: MakeWorker, workers: int, address: str | None) -> None:
        self.ray = ray = import_ray(address)
        if "remote" not in _REMOTE:
            _REMOTE["remote"] = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_ray_job)
        self.remote = _REMOTE["remote"]
        self.id = uuid.uuid4().hex
        self.maker = ray.put(make_worker)  # sent to the object store once, not with every task
        self.window = workers
        self.waiting: collections.deque[Any] = collections.deque()
        self.running: dict[Any, Any] = {}  # ObjectRef -> item

    @property
    def pending(self) -> int:
        return len(self.waiting) + len(self.running)

    def submit(self, item: Any) -> None:
        self.waiting.append(item)
        self._fill()

    def _fill(self) -> None:
        while self.waiting and len(self.running) < self.window:
            item = self.waiting.popleft()
            self.running[self.remote.remote(self.id, self.maker, item)] = item

    def next(self) -> Any:
        if not self.running:
            raise RuntimeError("next() with no job submitted")
        ray = self.ray
        [ref], _ = ray.wait(list(self.running), num_returns=1)
        item = self.running.pop(ref)
        try:
            result = ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            raise WorkerError(f"a Ray task failed on item {item!r}:\n{err}") from None
        except ray.exceptions.RayError as err:
            raise WorkerError(
                f"item {item!r} was lost with its Ray worker {MAX_RETRIES + 1} times "
                f"({type(err).__name__}: {err})"
            ) from None
        self._fill()
        return result

    def close(self) -> None:
        for ref in self.running:
            self.ray.cancel(ref, force=True)
        self.running.clear()
        self.waiting.clear()
