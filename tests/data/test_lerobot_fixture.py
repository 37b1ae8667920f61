"""A dataset written by hand from the public LeRobot v3 description (no hivla columns) loads
through the same loader: two episodes share one parquet file and one mp4 per camera."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hivla.data import ChunkDataset, DatasetMeta, LoaderConfig, VideoClipDataset
from hivla.data.video import encode_video

FPS, LENGTHS = 15, (6, 4)


def write_lerobot_v3(root: Path) -> Path:
    n = sum(LENGTHS)
    ep = np.repeat([0, 1], LENGTHS)
    frame = np.concatenate([np.arange(k) for k in LENGTHS])
    action = np.stack([ep * 10 + frame, frame, -frame], 1).astype(np.float32)
    state = np.stack([frame, frame, ep, ep], 1).astype(np.float32)
    table = pa.table({
        "action": pa.array(action.tolist(), pa.list_(pa.float32())),  # variable-size lists, as HF datasets may write
        "observation.state": pa.array(state.tolist(), pa.list_(pa.float32())),
        "timestamp": pa.array((frame / FPS).astype(np.float32)),
        "frame_index": pa.array(frame.astype(np.int64)),
        "episode_index": pa.array(ep.astype(np.int64)),
        "index": pa.array(np.arange(n, dtype=np.int64)),
        "task_index": pa.array(ep.astype(np.int64)),
    })  # fmt: skip
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(table, root / "data/chunk-000/file-000.parquet")
    video = np.zeros((n, 24, 32, 3), np.uint8)
    video[:, :, :, 0] = (np.arange(n) * 20)[:, None, None]  # red channel encodes the dataset index
    encode_video(video, root / "videos/observation.images.top/chunk-000/file-000.mp4", FPS)
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    pq.write_table(
        pa.table({"task_index": [0, 1], "task": ["pick the cube", "open the drawer"]}),
        root / "meta/tasks.parquet",
    )
    starts = np.concatenate([[0], np.cumsum(LENGTHS)[:-1]])
    episodes = {
        "episode_index": [0, 1],
        "tasks": [["pick the cube"], ["open the drawer"]],
        "length": list(LENGTHS),
        "data/chunk_index": [0, 0],
        "data/file_index": [0, 0],
        "dataset_from_index": starts.tolist(),
        "dataset_to_index": (starts + LENGTHS).tolist(),
        "videos/observation.images.top/chunk_index": [0, 0],
        "videos/observation.images.top/file_index": [0, 0],
        "videos/observation.images.top/from_timestamp": (starts / FPS).tolist(),
        "videos/observation.images.top/to_timestamp": ((starts + LENGTHS) / FPS).tolist(),
        "meta/episodes/chunk_index": [0, 0],
        "meta/episodes/file_index": [0, 0],
    }
    pq.write_table(pa.table(episodes), root / "meta/episodes/chunk-000/file-000.parquet")
    scalar = {"dtype": "int64", "shape": [1], "names": None}
    info = {
        "codebase_version": "v3.0", "robot_type": "so100", "total_episodes": 2, "total_frames": n,
        "total_tasks": 2, "chunks_size": 1000, "data_files_size_in_mb": 100, "video_files_size_in_mb": 500,
        "fps": FPS, "splits": {"train": "0:2"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": {
            "observation.images.top": {
                "dtype": "video", "shape": [24, 32, 3], "names": ["height", "width", "channels"],
                "info": {"video.fps": FPS, "video.codec": "h264", "video.pix_fmt": "yuv420p"},
            },
            "action": {"dtype": "float32", "shape": [3], "names": ["x", "y", "z"]},
            "observation.state": {"dtype": "float32", "shape": [4], "names": None},
            "timestamp": {"dtype": "float32", "shape": [1], "names": None},
            "frame_index": scalar, "episode_index": scalar, "index": scalar, "task_index": scalar,
        },
    }  # fmt: skip
    (root / "meta/info.json").write_text(json.dumps(info))
    return root


def test_plain_lerobot_v3_dataset_loads(tmp_path):
    root = write_lerobot_v3(tmp_path / "lerobot")
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
