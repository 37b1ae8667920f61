"""Broken datasets give clear errors that name the file and the problem."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from hivla.data import ChunkDataset, DatasetError, DatasetMeta, LoaderConfig
from hivla.data.video import encode_video


def test_truncated_parquet(synthetic_copy):
    path = synthetic_copy / "data/chunk-000/file-001.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"file-001\.parquet.*truncated or corrupt") as e:
        ChunkDataset(synthetic_copy)
    assert e.value.path == path


def test_missing_video(synthetic_copy):
    path = synthetic_copy / "videos/observation.images.wrist/chunk-000/file-002.mp4"
    path.unlink()
    with pytest.raises(DatasetError, match=r"file-002\.mp4: video file is missing.*episode 2"):
        ChunkDataset(synthetic_copy)


def test_video_with_too_few_frames(synthetic_copy):
    path = synthetic_copy / "videos/observation.images.front/chunk-000/file-000.mp4"
    encode_video(np.zeros((5, 32, 32, 3), np.uint8), path, 10)  # episode 0 has 12 frames
    with pytest.raises(DatasetError, match=r"file-000\.mp4: mismatched frame counts: the video holds 5"):
        ChunkDataset(synthetic_copy)


def test_video_with_too_many_frames(synthetic_copy):
    path = synthetic_copy / "videos/observation.images.front/chunk-000/file-003.mp4"
    encode_video(np.zeros((9, 32, 32, 3), np.uint8), path, 10)  # episode 3 has 5 frames
    with pytest.raises(
        DatasetError, match=r"file-003\.mp4: mismatched frame counts: the video holds 9 .* says 5"
    ):
        ChunkDataset(synthetic_copy)


def test_decode_checks_the_count_too(synthetic_copy):
    from hivla.data.reader import VideoCache

    meta = DatasetMeta.load(synthetic_copy)
    row = dict(meta.episodes[3], length=6)  # meta claims one frame more than the video holds
    with pytest.raises(DatasetError, match=r"file-003\.mp4: mismatched frame counts: the video has 5 frames"):
        VideoCache(meta).decode(row, "observation.images.front")


def test_parquet_rows_disagree_with_meta(synthetic_copy):
    path = synthetic_copy / "data/chunk-000/file-001.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 3), path)
    with pytest.raises(
        DatasetError, match=r"file-001\.parquet: mismatched frame counts: 3 rows for episode 1.*length is 7"
    ):
        ChunkDataset(synthetic_copy)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hivla_format_version", 99, "hivla_format_version 99 is newer than this hivla can read"),
        ("codebase_version", "v2.1", "codebase_version 'v2.1' is not supported"),
        ("hivla_format_version", "one", "hivla_format_version must be a positive integer"),
    ],
)
def test_unknown_versions(synthetic_copy, key, value, message):
    path = synthetic_copy / "meta/info.json"
    info = json.loads(path.read_text())
    info[key] = value
    path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match=rf"info\.json: {message}"):
        ChunkDataset(synthetic_copy)


def test_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match=r"meta/info\.json is missing"):
        DatasetMeta.load(tmp_path)


def test_missing_column(synthetic_copy):
    path = synthetic_copy / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    pq.write_table(table.drop(["observation.state"]), path)
    with pytest.raises(DatasetError, match=r"file-000\.parquet: columns \['observation.state'\] declared"):
        ChunkDataset(synthetic_copy, LoaderConfig())
