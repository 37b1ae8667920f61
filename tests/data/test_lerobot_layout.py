"""What hivla writes is what LeRobot v3.0 writes, key for key (``tests/data/lerobot_layout.py``
lists LeRobot's keys), and a round trip both ways keeps every value."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
from tests.data.conftest import synthetic_episode
from tests.data.lerobot_layout import (
    IMAGE_KEY,
    INDEX_FEATURES,
    INFO_KEYS,
    STAT_KEYS,
    TASKS,
    VIDEO_INFO_KEYS,
    VIDEO_KEY,
    frames_of,
    write_lerobot_v3,
)

from hivla.data import ChunkDataset, DatasetMeta, DatasetWriter, Episode, LoaderConfig, infer_features
from hivla.data.stats import STAT_NAMES

LEROBOT_EPISODE_COLUMNS = (
    "episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
    "dataset_to_index", "meta/episodes/chunk_index", "meta/episodes/file_index",
)  # fmt: skip


def test_tasks_are_the_pandas_index_named_task(synthetic_root):
    table = pq.read_table(synthetic_root / "meta/tasks.parquet")
    assert table.column_names == ["task_index", "task"]
    pandas = json.loads(table.schema.metadata[b"pandas"])
    assert pandas["index_columns"] == ["task"]  # pandas.read_parquet: index "task", column task_index
    assert [c["name"] for c in pandas["columns"]] == ["task_index", "task"]
    assert table["task"].to_pylist() == ["task 0", "task 1"] and table["task_index"].to_pylist() == [0, 1]


def test_info_video_and_stats_keys(synthetic_root):
    info = json.loads((synthetic_root / "meta/info.json").read_text())
    assert [k for k in info if k in INFO_KEYS] == list(INFO_KEYS)  # LeRobot's keys, in its order
    assert info["data_files_size_in_mb"] == 100 and info["video_files_size_in_mb"] == 200
    video = info["features"]["observation.images.front"]["info"]
    assert tuple(video) == VIDEO_INFO_KEYS
    assert video["video.codec"] == "h264" and video["video.channels"] == 3 and video["has_audio"] is False
    assert info["hivla"]["video"]["codec"] == "libx264"  # the encoder, kept as a hivla key
    from hivla.data import write_stats

    write_stats(synthetic_root)
    stats = json.loads((synthetic_root / "meta/stats.json").read_text())
    assert set(stats["action"]) == set(STAT_KEYS) and np.shape(stats["observation.images.front"]["q10"]) == (
        3,
        1,
        1,
    )


def test_episodes_table_has_lerobot_columns_and_stats(synthetic_root):
    table = pq.read_table(synthetic_root / "meta/episodes/chunk-000/file-000.parquet")
    cols = set(table.column_names)
    assert set(LEROBOT_EPISODE_COLUMNS) <= cols
    for key in ("action", "observation.state", "observation.images.front", *INDEX_FEATURES):
        assert {f"stats/{key}/{s}" for s in STAT_KEYS} <= cols, key
    assert not any(c.startswith("stats/subtask/") for c in cols)  # strings have no statistics
    row = table.slice(1, 1).to_pylist()[0]  # episode 1: action[:, 0] == 1, length 7
    assert row["stats/action/mean"][0] == 1.0 and row["stats/frame_index/max"] == [6.0]
    assert row["stats/action/count"] == [7] and np.shape(row["stats/observation.images.front/q50"]) == (
        3,
        1,
        1,
    )
    assert all(f"stats/action/{s}" in cols for s in STAT_NAMES)


def test_odd_image_size_is_stored_exactly(tmp_path):
    import av

    ep = synthetic_episode(0, 5, size=65)
    writer = DatasetWriter.create(tmp_path / "odd", 10, infer_features(ep))
    writer.add_episode(ep)
    writer.close()
    meta = DatasetMeta.load(tmp_path / "odd")
    feat = meta.features["observation.images.front"]
    with av.open(str(meta.paths.video("observation.images.front", 0, 0))) as c:
        s = c.streams.video[0]
        stream = (s.height, s.width, s.pix_fmt)
    assert feat["shape"][:2] == [65, 65] and stream == (65, 65, feat["info"]["video.pix_fmt"]) == (
        65,
        65,
        "yuv444p",
    )
    item = ChunkDataset(tmp_path / "odd", LoaderConfig(horizon=1))[3]
    assert tuple(item["observation.images.front"].shape) == (1, 3, 65, 65)


def test_format_1_tasks_as_a_plain_column_still_load(synthetic_copy):
    import pyarrow as pa

    pq.write_table(
        pa.table({"task_index": [0, 1], "task": ["task 0", "task 1"]}), synthetic_copy / "meta/tasks.parquet"
    )
    info = json.loads((synthetic_copy / "meta/info.json").read_text())
    info["hivla_format_version"] = 1
    for k in ("data_files_size_in_mb", "video_files_size_in_mb"):
        info.pop(k)
    (synthetic_copy / "meta/info.json").write_text(json.dumps(info))
    meta = DatasetMeta.load(synthetic_copy)
    assert meta.hivla_version == 1 and meta.tasks == {0: "task 0", 1: "task 1"}
    assert ChunkDataset(synthetic_copy, LoaderConfig(horizon=2))[13]["task"] == "task 1"


def test_round_trip_lerobot_to_hivla_and_back(tmp_path):
    """LeRobot's layout -> hivla's loader -> hivla's writer -> LeRobot's keys, same values."""
    src = write_lerobot_v3(tmp_path / "lerobot")
    ds = ChunkDataset(src, LoaderConfig(horizon=1, uint8_images=True))
    meta = ds.meta
    writer = DatasetWriter.create(tmp_path / "hivla", meta.fps, _features_of(ds), meta.info["robot_type"])
    for i, e in enumerate(ds.episodes):
        rows = range(int(ds.frames.starts[i]), int(ds.frames.starts[i] + ds.frames.lengths[i]))
        images = {c: np.stack([ds[r][f"observation.images.{c}"][0].permute(1, 2, 0).numpy() for r in rows])
                  for c in ds.cameras}  # fmt: skip
        frames = {k: ds.frames.columns[k][list(rows)] for k in ("action", "observation.state")}
        writer.add_episode(Episode(frames, images, e["tasks"][0]))
    writer.close()
    back = DatasetMeta.load(tmp_path / "hivla")
    assert back.tasks == dict(enumerate(TASKS)) and back.cameras == ["top", "phone"]
    expected = frames_of(sum(e["length"] for e in meta.episodes))
    again = ChunkDataset(tmp_path / "hivla", LoaderConfig(horizon=1, uint8_images=True))
    for i in range(len(again)):
        item = again[i]
        np.testing.assert_array_equal(item["action"][0].numpy(), expected["action"][i])
        assert item["task"] == TASKS[int(expected["episode_index"][i])]
        green = item["observation.images.phone"][0, 1].float().mean().item()
        assert abs(green - expected[IMAGE_KEY][i, 0, 0, 1]) < 4  # PNG -> H.264: a few grey levels
        red = item["observation.images.top"][0, 0].float().mean().item()
        assert abs(red - expected[VIDEO_KEY][i, 0, 0, 0]) < 8
    table = pq.read_table(tmp_path / "hivla/meta/tasks.parquet")
    assert json.loads(table.schema.metadata[b"pandas"])["index_columns"] == ["task"]


def _features_of(ds: ChunkDataset) -> dict:
    feats = {k: v for k, v in ds.meta.features.items() if k in ("action", "observation.state")}
    ep = Episode({}, {c: np.zeros((1, *ds.meta.features[k]["shape"]), np.uint8)
                      for c, k in ds.camera_features.items()}, "")  # fmt: skip
    ep.frames = {"x": np.zeros((1, 1), np.float32)}
    video = {k: v for k, v in infer_features(ep, fps=ds.meta.fps).items() if v["dtype"] == "video"}
    return {**feats, **video}
