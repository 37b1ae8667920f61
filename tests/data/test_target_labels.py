"""Collected datasets carry the localization label: where the expert's target is in each image."""

from __future__ import annotations

import json

import numpy as np

from hivla.data import ChunkDataset, LoaderConfig
from hivla.types import CAMERAS


def test_collected_frames_have_target_image_positions(collected_root) -> None:
    info = json.loads((collected_root / "meta" / "info.json").read_text())
    feature = info["features"]["annotation.target_uv"]
    assert feature["shape"] == [3 * len(CAMERAS)]
    assert feature["names"] == [f"{c}.{a}" for c in CAMERAS for a in ("u", "v", "visible")]
    data = ChunkDataset(collected_root, LoaderConfig(horizon=2))
    labels = np.stack([data[i]["annotation.target_uv"].numpy() for i in range(len(data))])  # (N, 6)
    labels = labels.reshape(len(data), len(CAMERAS), 3)
    assert np.all(np.abs(labels[..., :2]) <= 1.0)
    assert set(np.unique(labels[..., 2]).tolist()) <= {0.0, 1.0}
    front = CAMERAS.index("front")
    assert labels[:, front, 2].mean() > 0.9  # the front camera sees the whole table
