"""The pool seam (``hivla.utils.pool``) on the local backend: serial and process pools give the
same results, a worker's exception comes back with its traceback, bad backends and addresses are
refused with a message, and a missing Ray names the extra to install."""

from __future__ import annotations

import os
import sys
from functools import partial

import pytest

from hivla.errors import HivlaError
from hivla.utils.pool import BackendError, WorkerError, check_backend, import_ray, open_pool, run_pool


class Square:
    """A worker with state: it counts its jobs, but its results depend only on the item."""

    def __init__(self, offset: int) -> None:
        self.offset, self.jobs = offset, 0

    def __call__(self, item: int) -> tuple[int, int]:
        self.jobs += 1
        if item < 0:
            raise ValueError(f"negative item {item}")
        return item, item * item + self.offset


def test_serial_and_process_pools_give_the_same_results():
    items = list(range(7))
    serial = sorted(run_pool(partial(Square, 3), items, workers=1))
    processes = sorted(run_pool(partial(Square, 3), items, workers=2))
    assert serial == processes == [(i, i * i + 3) for i in items]


def test_pool_submit_and_next_in_completion_order():
    with open_pool(partial(Square, 0), workers=2) as pool:
        for i in (4, 5, 6):
            pool.submit(i)
        assert pool.pending == 3
        got = {pool.next() for _ in range(3)}
        assert pool.pending == 0
    assert got == {(4, 16), (5, 25), (6, 36)}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_exception_is_raised_with_its_traceback(workers):
    with pytest.raises((WorkerError, ValueError), match="negative item -1"):
        list(run_pool(partial(Square, 0), [1, -1, 2], workers=workers))


def test_backend_and_address_are_checked():
    check_backend("local")
    check_backend("ray", "auto")
    check_backend("ray", "ray://head.example:10001")
    check_backend("ray", "10.0.0.5:6379")
    with pytest.raises(BackendError, match="one of local, ray"):
        check_backend("dask")
    with pytest.raises(BackendError, match="add --backend ray"):
        check_backend("local", "auto")
    with pytest.raises(BackendError, match="ray://HOST:PORT"):
        check_backend("ray", "head-without-port")
    assert issubclass(BackendError, HivlaError) and issubclass(BackendError, ValueError)


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(BackendError, match=r"pip install -e '\.\[ray\]'"):
        import_ray()


def test_cli_refuses_an_address_without_ray():
    from hivla.cli.main import main

    with pytest.raises(SystemExit, match="add --backend ray"):
        main(["eval", "--episodes", "1", "--address", "auto"])


def test_dagger_resumes_across_backends(tmp_path):
    """Where the rollouts run is not part of a DAgger run's identity (like the worker count)."""
    from hivla.training.dagger import DaggerConfig

    local = DaggerConfig(out=tmp_path, data="d", workers=1)
    ray = DaggerConfig(out=tmp_path, data="d", workers=8, backend="ray", address="auto")
    assert local.identity() == ray.identity()


def test_joining_a_cluster_leaves_the_node_address_alone(monkeypatch):
    """Joining a cluster leaves Ray's choice of node address alone (only a private instance is
    pinned to loopback)."""
    monkeypatch.delenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(BackendError):
        import_ray("auto")
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ
