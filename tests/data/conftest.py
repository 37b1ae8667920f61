"""Shared fixtures: a tiny collected dataset (real simulator) and a synthetic one (known values)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hivla.data import DatasetWriter, Episode, infer_features

SYN_LENGTHS = (12, 7, 9, 5)


def synthetic_episode(i: int, length: int, size: int = 32) -> Episode:
    """Episode ``i``: action[t] = [i, t, t*0.5], state[t] = [t, -t, i, 1]; image brightness encodes t."""
    t = np.arange(length, dtype=np.float32)
    images = {}
    for cam, base in (("front", 20), ("wrist", 120)):
        frames = np.zeros((length, size, size, 3), np.uint8)
        frames[:] = (base + 8 * np.arange(length) % 100)[:, None, None, None].astype(np.uint8)
        images[cam] = frames
    return Episode(
        frames={
            "action": np.stack([np.full_like(t, i), t, 0.5 * t], 1),
            "observation.state": np.stack([t, -t, np.full_like(t, i), np.ones_like(t)], 1),
            "subtask": [f"step {k // 4}" for k in range(length)],
            "subtask_index": np.arange(length) // 4,
        },
        images=images,
        task=f"task {i % 2}",
        info={"seed": 100 + i, "suite": "s-a" if i % 2 else "s-b", "chain_length": 1 + i % 3},
    )


def write_synthetic(root: Path, lengths=SYN_LENGTHS) -> Path:
    eps = [synthetic_episode(i, n) for i, n in enumerate(lengths)]
    writer = DatasetWriter.create(root, 10, infer_features(eps[0], {"action": ["a", "b", "c"]}), "synthetic")
    for ep in eps:
        writer.add_episode(ep)
    writer.close()
    return root


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("syn") / "ds")


@pytest.fixture()
def synthetic_copy(synthetic_root, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(synthetic_root, tmp_path / "ds"))


@pytest.fixture(scope="session")
def collected_root(tmp_path_factory) -> Path:
    from hivla.data.recorder import CollectConfig, collect

    root = tmp_path_factory.mktemp("collected") / "ds"
    collect(CollectConfig(out=root, episodes=3, workers=1, image_size=64))
    return root
