"""A dataset laid out as LeRobot writes it (``tests/data/lerobot_layout.py``: tasks as the pandas
index, no hivla columns, cameras as video and as images) loads through the same loader: two
episodes share one parquet file and one mp4 per camera."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.data.lerobot_layout import IMAGE_KEY, LENGTHS, STAT_KEYS, TASKS, VIDEO_KEY, write_lerobot_v3

from hivla.data import ChunkDataset, DatasetError, DatasetMeta, LoaderConfig, VideoClipDataset, compute_stats


def test_plain_lerobot_v3_dataset_loads(tmp_path):
    root = write_lerobot_v3(tmp_path / "lerobot", image_camera=False)
    meta = DatasetMeta.load(root)
    assert meta.hivla_version is None and meta.cameras == ["top"]
    ds = ChunkDataset(root, LoaderConfig(horizon=3, n_obs_steps=2))
    assert len(ds) == sum(LENGTHS)
    item = ds[LENGTHS[0] + 2]  # episode 1, frame 2 (dataset index 8)
    assert item["task"] == "open the drawer" and int(item["episode_index"]) == 1
    np.testing.assert_array_equal(item["action"][:, 0].numpy(), [12, 13, 13])
    assert item["action_is_pad"].tolist() == [False, False, True]
    np.testing.assert_array_equal(item["observation.state"][:, 0].numpy(), [1, 2])
    red = item["observation.images.top"][:, 0].mean(dim=(1, 2)) * 255  # (T,)
    np.testing.assert_allclose(red.numpy(), [7 * 20, 8 * 20], atol=4)  # the second episode's frames
    clips = VideoClipDataset(root, clip_len=2)
    assert len(clips) == sum(n - 1 for n in LENGTHS) and "subtask" not in clips[0]


def test_fixture_stores_tasks_as_lerobot_does(tmp_path):
    root = write_lerobot_v3(tmp_path / "lerobot")
    table = pq.read_table(root / "meta/tasks.parquet")
    assert table.column_names == ["task_index", "__index_level_0__"]  # pandas' unnamed index
    assert b'"index_columns": ["__index_level_0__"]' in table.schema.metadata[b"pandas"]
    assert DatasetMeta.load(root).tasks == dict(enumerate(TASKS))
    stats = DatasetMeta.load(root).stats
    assert set(stats["action"]) == set(STAT_KEYS) and np.shape(stats[VIDEO_KEY]["q50"]) == (3, 1, 1)


def test_image_feature_and_camera_mapping(tmp_path):
    root = write_lerobot_v3(tmp_path / "lerobot")
    meta = DatasetMeta.load(root)
    assert meta.cameras == ["top", "phone"] and meta.video_keys == [VIDEO_KEY]
    cfg = LoaderConfig(horizon=2, cameras=("front", "wrist"),
                       camera_keys=(("front", VIDEO_KEY), ("wrist", IMAGE_KEY)))  # fmt: skip
    ds = ChunkDataset(root, cfg)
    item = ds[7]  # episode 1, frame 1
    assert set(item) >= {"observation.images.front", "observation.images.wrist", "task"}
    assert item["task"] == TASKS[1] and "subtask" not in item and "embodiment" not in item
    wrist = item["observation.images.wrist"]  # (1, 3, 20, 20), PNG: exact
    assert tuple(wrist.shape) == (1, 3, 20, 20)
    np.testing.assert_allclose(wrist[0, 1].numpy() * 255, np.full((20, 20), 70.0), atol=1e-3)
    red = item["observation.images.front"][0, 0].mean() * 255
    assert abs(float(red) - 140) < 6
    stats = compute_stats(root)  # images too, as [3, 1, 1]
    assert stats[IMAGE_KEY].mean.shape == (3, 1, 1) and stats[IMAGE_KEY].max[1, 0, 0] == pytest.approx(
        0.353, abs=0.01
    )


def test_unknown_camera_names_the_mapping(tmp_path):
    root = write_lerobot_v3(tmp_path / "lerobot")
    with pytest.raises(ValueError, match=r"--data-keys front=observation\.images\.top"):
        ChunkDataset(root, LoaderConfig(cameras=("front",)))
    with pytest.raises(DatasetError, match=r"no 'observation\.joints' column"):
        ChunkDataset(root, LoaderConfig(state_key="observation.joints"))
