"""The Ray backend on a private 2-CPU Ray instance on this machine (loopback only): `hivla eval` and
`hivla collect` give the same per-seed results and the same dataset as the local pool, even when
a Ray worker process is killed in the middle of the run (its episode runs again)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time
from pathlib import Path

import pytest

from hivla.utils.pool import import_ray

# find_spec, not importorskip: Ray must be first imported by import_ray, which pins it to loopback
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="pip install -e '.[ray]'")


@pytest.fixture(scope="module")
def ray_instance():
    ray = import_ray()  # a private instance: 2 CPUs here, so 2 Ray workers
    node = ray.nodes()[0]
    assert node["NodeManagerAddress"] == "127.0.0.1"  # loopback only
    yield ray
    ray.shutdown()


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def _descends_from_us(pid: int) -> bool:
    """Started by this process's Ray instance (not another test process's)."""
    while pid > 1:
        pid = _parent(pid)
        if pid == os.getpid():
            return True
    return False


def _running_ray_jobs() -> list[int]:
    """Pids of this Ray instance's workers running a pool job right now (Ray titles them by task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::_ray_job") and _descends_from_us(
                    int(entry.name)
                ):
                    pids.append(int(entry.name))
            except OSError:  # the process ended meanwhile
                continue
    return pids


class KillOnce:
    """Called as episodes finish: after the first one, SIGKILLs a Ray worker that is running another."""

    def __init__(self) -> None:
        self.killed: int | None = None

    def __call__(self, *_args) -> None:
        deadline = time.time() + 10
        while self.killed is None and time.time() < deadline:
            pids = _running_ray_jobs()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                self.killed = pids[0]
            else:
                time.sleep(0.01)


def _episodes(results_json: Path) -> list[dict]:
    timing = ("step_ms", "query_ms", "video")
    rows = json.loads(results_json.read_text())["episodes"]
    return [{k: v for k, v in r.items() if k not in timing} for r in rows]


def _eval(out: Path, progress=None, **kw):
    from hivla.evaluation import EvalConfig, evaluate

    cfg = EvalConfig(policy="expert", episodes=4, image_size=64, videos=0, **kw)
    results = evaluate(cfg, progress=progress)
    results.save(out)
    return _episodes(out / "results.json")


def test_eval_on_ray_equals_local_even_with_a_worker_killed(ray_instance, tmp_path):
    local = _eval(tmp_path / "local", workers=1)
    killer = KillOnce()
    on_ray = _eval(tmp_path / "ray", progress=killer, workers=2, backend="ray")
    assert killer.killed is not None, "no Ray worker was running a job to kill"
    assert [r["seed"] for r in on_ray] == [r["seed"] for r in local]
    assert on_ray == local  # every episode, with the same outcome, steps and progress per seed


def _dataset(root: Path) -> dict:
    import pyarrow.parquet as pq

    from hivla.data import DatasetMeta

    meta = DatasetMeta.load(root)
    tables = [pq.read_table(p).to_pylist() for p in sorted(root.glob("data/chunk-*/*.parquet"))]
    videos = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("videos/**/*.mp4"))}
    return {"seeds": [e["hivla/seed"] for e in meta.episodes], "tables": tables, "videos": videos}


def test_collect_on_ray_writes_the_local_dataset_even_with_a_worker_killed(ray_instance, tmp_path):
    from hivla.data.recorder import CollectConfig, collect

    common = {"episodes": 4, "image_size": 64, "stats": False}  # 4: one is still running when the first ends
    collect(CollectConfig(out=tmp_path / "local", workers=1, **common))
    killer = KillOnce()
    out = collect(CollectConfig(out=tmp_path / "ray", workers=2, backend="ray", **common), on_progress=killer)
    assert killer.killed is not None, "no Ray worker was running a job to kill"
    assert out["episodes"] == 4 and not (tmp_path / "ray" / ".staging").exists()
    local, on_ray = _dataset(tmp_path / "local"), _dataset(tmp_path / "ray")
    assert on_ray["seeds"] == local["seeds"]
    assert on_ray["tables"] == local["tables"]  # every frame's columns
    assert on_ray["videos"] == local["videos"]  # byte for byte


def test_cli_eval_and_collect_take_the_ray_backend(ray_instance, tmp_path, capsys):
    from hivla.cli.main import main

    args = ["--episodes", "2", "--image-size", "64", "--workers", "2", "--backend", "ray", "--json"]
    assert main(["collect", "--out", str(tmp_path / "data"), *args]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 2
    assert main(["eval", "--policy", "expert", "--videos", "0", "--out", str(tmp_path / "eval"), *args]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["backend"] == "ray" and result["metrics"]["episodes"] == 2
