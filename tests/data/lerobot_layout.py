"""A dataset laid out as LeRobot 0.4's writer lays it out, built from LeRobot's published v3.0
format description (no lerobot import): what LeRobot tools and hivla's reader depend on.

Matches LeRobot byte-for-byte where it matters: ``meta/tasks.parquet`` is a pandas frame with one
``task_index`` column whose (unnamed) index holds the task text, stored as pandas stores it
(``__index_level_0__`` plus pandas schema metadata); ``meta/info.json`` has exactly the keys of
LeRobot's empty-dataset template; ``meta/stats.json`` and the episodes table's ``stats/...``
columns carry LeRobot's statistics (min, max, mean, std, count, q01, q10, q50, q90, q99) for every
non-string feature, index columns included; the episodes table has LeRobot's columns in its order.
Cameras: one stored as video (two episodes in one mp4), one as images (PNG bytes in the parquet).
No hivla columns (no subtask, reasoning, embodiment, action.universal).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hivla.data.video import VideoConfig, encode_video

FPS, LENGTHS, TASKS = 15, (6, 4), ("pick the cube", "open the drawer")
VIDEO_KEY, IMAGE_KEY = "observation.images.top", "observation.images.phone"
VIDEO_HW, IMAGE_HW = (24, 32), (20, 20)

# What LeRobot 0.4's ``create_empty_dataset_info`` writes, in its order.
INFO_KEYS = (
    "codebase_version", "robot_type", "total_episodes", "total_frames", "total_tasks", "chunks_size",
    "data_files_size_in_mb", "video_files_size_in_mb", "fps", "splits", "data_path", "video_path", "features",
)  # fmt: skip
# LeRobot's ``get_video_info``: stream size, codec (not encoder) name, pixel format, fps, channels, audio.
VIDEO_INFO_KEYS = (
    "video.height", "video.width", "video.codec", "video.pix_fmt", "video.is_depth_map", "video.fps",
    "video.channels", "has_audio",
)  # fmt: skip
STAT_KEYS = ("min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99")
INDEX_FEATURES = ("timestamp", "frame_index", "episode_index", "index", "task_index")


def frames_of(n: int) -> dict[str, np.ndarray]:
    """Known values: action[i] = [10 e + t, t, -t], state = [t, t, e, e]; top's red channel = 20 i,
    phone's green channel = 10 i (i: dataset index)."""
    ep = np.repeat(np.arange(len(LENGTHS)), LENGTHS)
    t = np.concatenate([np.arange(k) for k in LENGTHS])
    top = np.zeros((n, *VIDEO_HW, 3), np.uint8)
    top[..., 0] = (np.arange(n) * 20)[:, None, None]
    phone = np.zeros((n, *IMAGE_HW, 3), np.uint8)
    phone[..., 1] = (np.arange(n) * 10)[:, None, None]
    return {
        "action": np.stack([ep * 10 + t, t, -t], 1).astype(np.float32),
        "observation.state": np.stack([t, t, ep, ep], 1).astype(np.float32),
        "timestamp": (t / FPS).astype(np.float32),
        "frame_index": t.astype(np.int64),
        "episode_index": ep.astype(np.int64),
        "index": np.arange(n, dtype=np.int64),
        "task_index": ep.astype(np.int64),
        VIDEO_KEY: top,
        IMAGE_KEY: phone,
    }


def feature_stats(x: np.ndarray, image: bool) -> dict[str, list]:
    """LeRobot's per-feature statistics: over frames (vectors) or frames and pixels per channel
    in [0, 1] with shape [3, 1, 1] (images)."""
    count = len(x)  # frames (LeRobot counts sampled images, not pixels)
    x = x.astype(np.float64)
    if image:
        x = x.reshape(-1, 3) / 255.0
    elif x.ndim == 1:
        x = x[:, None]
    shape = (3, 1, 1) if image else (-1,)
    qs = np.quantile(x, [0.01, 0.10, 0.50, 0.90, 0.99], axis=0)
    values = {"min": x.min(0), "max": x.max(0), "mean": x.mean(0), "std": x.std(0)}
    values.update(zip(("q01", "q10", "q50", "q90", "q99"), qs, strict=True))
    out = {k: np.asarray(v).reshape(shape).tolist() for k, v in values.items()}
    out["count"] = [count]
    return {k: out[k] for k in STAT_KEYS}


def png(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def pandas_meta(columns: list[tuple[str | None, str, str, str]], index: str) -> bytes:
    """pandas' parquet schema metadata: columns as (name, field_name, pandas_type, numpy_type)."""
    return json.dumps({
        "index_columns": [index],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode",
                            "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}],
        "columns": [{"name": n, "field_name": f, "pandas_type": p, "numpy_type": t, "metadata": None}
                    for n, f, p, t in columns],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }).encode()  # fmt: skip


def write_tasks(root: Path) -> None:
    """``pd.DataFrame({"task_index": ...}, index=tasks).to_parquet(...)``: the unnamed index is
    stored as ``__index_level_0__``."""
    table = pa.table(
        {"task_index": pa.array(range(len(TASKS)), pa.int64()), "__index_level_0__": list(TASKS)}
    )
    meta = pandas_meta(
        [("task_index", "task_index", "int64", "int64"), (None, "__index_level_0__", "unicode", "object")],
        "__index_level_0__",
    )
    pq.write_table(table.replace_schema_metadata({b"pandas": meta}), root / "meta/tasks.parquet")


def write_lerobot_v3(root: Path, image_camera: bool = True) -> Path:
    """Write the dataset under ``root``; ``image_camera`` adds the camera stored as PNG images."""
    n = sum(LENGTHS)
    cols = frames_of(n)
    if not image_camera:
        cols.pop(IMAGE_KEY)
    data = {
        "action": pa.array(cols["action"].tolist(), pa.list_(pa.float32())),  # variable-size lists, as HF datasets may write
        "observation.state": pa.array(cols["observation.state"].tolist(), pa.list_(pa.float32())),
    }  # fmt: skip
    if image_camera:
        data[IMAGE_KEY] = pa.array(
            [{"bytes": png(img), "path": None} for img in cols[IMAGE_KEY]],
            pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
        )
    data.update({k: pa.array(cols[k]) for k in INDEX_FEATURES})
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(pa.table(data), root / "data/chunk-000/file-000.parquet")
    video = root / f"videos/{VIDEO_KEY}/chunk-000/file-000.mp4"
    encode_video(cols[VIDEO_KEY], video, FPS, VideoConfig(crf=30, gop=2, bframes=0))  # LeRobot: crf 30, g 2
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    write_tasks(root)
    features = _features(image_camera)
    starts = np.concatenate([[0], np.cumsum(LENGTHS)[:-1]])
    rows = []
    for e, (start, length) in enumerate(zip(starts.tolist(), LENGTHS, strict=True)):
        row = {
            "episode_index": e,
            "tasks": [TASKS[e]],
            "length": length,
            "data/chunk_index": 0,
            "data/file_index": 0,
        }
        row.update({
            f"videos/{VIDEO_KEY}/chunk_index": 0, f"videos/{VIDEO_KEY}/file_index": 0,
            f"videos/{VIDEO_KEY}/from_timestamp": start / FPS, f"videos/{VIDEO_KEY}/to_timestamp": (start + length) / FPS,
        })  # fmt: skip
        for key, feat in features.items():
            sl = cols[key][start : start + length]
            for stat, v in feature_stats(sl, feat["dtype"] in ("video", "image")).items():
                row[f"stats/{key}/{stat}"] = v
        row.update({"dataset_from_index": start, "dataset_to_index": start + length,
                    "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})  # fmt: skip
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows), root / "meta/episodes/chunk-000/file-000.parquet")
    stats = {k: feature_stats(cols[k], f["dtype"] in ("video", "image")) for k, f in features.items()}
    (root / "meta/stats.json").write_text(json.dumps(stats, indent=4))
    info = dict.fromkeys(INFO_KEYS)
    info.update({
        "codebase_version": "v3.0", "robot_type": "so100_follower", "total_episodes": len(LENGTHS),
        "total_frames": n, "total_tasks": len(TASKS), "chunks_size": 1000, "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200, "fps": FPS, "splits": {"train": f"0:{len(LENGTHS)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": features,
    })  # fmt: skip
    (root / "meta/info.json").write_text(json.dumps(info, indent=4))
    return root


def _features(image_camera: bool) -> dict[str, dict]:
    scalar = {"dtype": "int64", "shape": [1], "names": None}
    video_info = dict(zip(VIDEO_INFO_KEYS, (*VIDEO_HW, "h264", "yuv420p", False, FPS, 3, False), strict=True))
    feats = {
        "action": {"dtype": "float32", "shape": [3], "names": ["x", "y", "z"]},
        "observation.state": {"dtype": "float32", "shape": [4], "names": ["a", "b", "c", "d"]},
        VIDEO_KEY: {"dtype": "video", "shape": [*VIDEO_HW, 3], "names": ["height", "width", "channels"],
                    "info": video_info},
    }  # fmt: skip
    if image_camera:
        feats[IMAGE_KEY] = {
            "dtype": "image",
            "shape": [*IMAGE_HW, 3],
            "names": ["height", "width", "channels"],
        }
    feats["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
    feats.update({k: dict(scalar) for k in INDEX_FEATURES[1:]})
    return feats
