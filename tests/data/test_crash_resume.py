"""A killed recorder leaves only whole episodes; --resume completes the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hivla.data import ChunkDataset, DatasetMeta, DatasetWriter

from .conftest import synthetic_episode, write_synthetic

N = 7


def _committed(root) -> int:
    return len(list(root.glob("data/chunk-*/file-*.parquet")))


def _check_whole(root) -> DatasetMeta:
    """Every listed episode reads completely: rows and frames match meta."""
    meta = DatasetMeta.load(root)
    ds = ChunkDataset(root)
    assert len(ds) == meta.total_frames
    for e in meta.episodes:
        for key in meta.video_keys:
            assert len(ds.videos.decode(e, key)) == e["length"]
    return meta


def test_sigkill_mid_run_then_resume(tmp_path):
    root = tmp_path / "ds"
    cmd = [sys.executable, "-m", "hivla.cli.main", "collect", "--out", str(root), "--episodes", str(N),
           "--image-size", "64", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while _committed(root) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, (
        f"collect ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    meta = _check_whole(root)
    assert 1 <= len(meta.episodes) < N  # meta lists only committed, whole episodes
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    meta = _check_whole(root)
    assert [e["episode_index"] for e in meta.episodes] == list(range(N))
    seeds = [e["hivla/seed"] for e in meta.episodes]
    assert len(set(seeds)) == N
    assert not (root / ".staging").exists() and _committed(root) == N
    assert len(list(root.glob("videos/*/chunk-*/*.mp4"))) == 2 * N


def test_crash_inside_a_commit_is_invisible_and_resume_cleans_up(tmp_path, monkeypatch):
    root = write_synthetic(tmp_path / "ds", lengths=(6, 5))
    writer = DatasetWriter.resume(root)
    real_replace = os.replace

    def crash_on_parquet(src, dst):
        if str(dst).endswith(".parquet") and "/data/" in str(dst):
            raise KeyboardInterrupt("simulated crash before the commit point")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_parquet)
    with pytest.raises(KeyboardInterrupt):
        writer.add_episode(synthetic_episode(2, 4))
    monkeypatch.setattr(os, "replace", real_replace)
    # videos of the half-committed episode were moved, its parquet was not: readers ignore it
    assert (root / "videos/observation.images.front/chunk-000/file-002.mp4").exists()
    assert list(root.glob("data/chunk-000/.*.tmp"))
    assert len(_check_whole(root).episodes) == 2
    writer = DatasetWriter.resume(root)
    assert writer.n_episodes == 2
    assert not (root / "videos/observation.images.front/chunk-000/file-002.mp4").exists()
    assert not list(root.glob("data/chunk-000/.*.tmp"))
    writer.add_episode(synthetic_episode(2, 4))
    writer.close()
    meta = _check_whole(root)
    assert [e["length"] for e in meta.episodes] == [6, 5, 4]
    ds = ChunkDataset(root)
    np.testing.assert_array_equal(ds[11]["action"][0].numpy(), [2, 0, 0])


def test_resume_rebuilds_meta_that_lags_behind_the_data(tmp_path):
    root = write_synthetic(tmp_path / "ds", lengths=(6, 5, 4))
    meta = DatasetMeta.load(root)
    meta.episodes = meta.episodes[:1]  # as if killed after committing episodes 1 and 2 but before meta
    meta.write()
    assert len(DatasetMeta.load(root).episodes) == 1
    writer = DatasetWriter.resume(root)
    assert writer.n_episodes == 3 and writer.meta.tasks == {0: "task 0", 1: "task 1"}
    assert DatasetMeta.load(root).total_frames == 15
