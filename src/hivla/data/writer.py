"""Write episodes into the LeRobot v3 layout, one committed episode at a time.

Commit protocol (crash-safe): videos are encoded under ``.staging/`` (or handed over already
encoded by a recorder worker) and the episode's parquet is written to a hidden temp name; then the
videos are renamed into ``videos/`` and the parquet is renamed into ``data/`` (the commit point).
``meta/`` is rewritten atomically, info.json last, after the first episode, then at most every
``META_INTERVAL_S`` seconds, and on ``close()``: rewriting the growing episodes table after every episode made long collections
quadratic. Readers only see episodes listed in ``meta/``, so a crash never exposes half an episode;
:meth:`DatasetWriter.resume` rebuilds ``meta/`` from the committed parquet files (each carries its
episode's meta row), so committed episodes that ``meta/`` does not list yet are kept, and deletes
leftovers.

hivla writes one episode per data file and per video file (``file_index = episode % chunks_size``);
readers handle files holding many episodes, as LeRobot writes them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hivla import __version__
from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta, read_table
from hivla.data.video import DEFAULT_VIDEO, VideoConfig, check_encoder, decode_video, encode_video

EPISODE_META_KEY = b"hivla.episode"
META_INTERVAL_S = 10.0  # seconds between meta/ rewrites while episodes are added (and on close)


@dataclass
class Episode:
    """One episode in memory, as a recorder produces it.

    frames: per-frame columns (length T), e.g. ``action`` float32[T, A], ``subtask`` list[str];
        index columns (timestamp, frame_index, episode_index, index, task_index) are added on commit.
    images: camera -> uint8[T, H, W, 3], or a path to an mp4 already encoded (moved on commit).
    task: the instruction (one task per episode).
    info: episode-level metadata stored in the episodes table as ``hivla/<key>`` columns.
    """

    frames: dict[str, Any]
    images: dict[str, Any]
    task: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(next(iter(self.frames.values())))


def infer_features(
    ep: Episode, names: dict[str, list[str]] | None = None, video: VideoConfig = DEFAULT_VIDEO, fps: int = 10
) -> dict[str, dict[str, Any]]:
    """LeRobot ``features`` for ``ep``'s columns plus the index columns (names: feature -> axis names)."""
    names = names or {}
    feats: dict[str, dict[str, Any]] = {}
    for cam, img in ep.images.items():
        if not isinstance(img, np.ndarray):
            raise ValueError(f"camera {cam!r}: pass arrays (or explicit features) to infer image shapes")
        h, w = img.shape[1:3]
        feats[fmt.image_key(cam)] = {
            "dtype": "video",
            "shape": [int(h), int(w), 3],
            "names": ["height", "width", "channels"],
            "info": video.info(h, w, fps),
        }
    for key, col in ep.frames.items():
        if isinstance(col, list | tuple) and (not col or isinstance(col[0], str)):
            feats[key] = {"dtype": "string", "shape": [1], "names": None}
            continue
        arr = np.asarray(col)
        shape = [int(s) for s in arr.shape[1:]] or [1]
        feats[key] = {"dtype": str(arr.dtype), "shape": shape, "names": names.get(key)}
    return {**feats, **index_features()}


def index_features() -> dict[str, dict[str, Any]]:
    """The features of LeRobot's index columns (every v3 dataset declares them)."""
    feats = {fmt.TIMESTAMP: {"dtype": "float32", "shape": [1], "names": None}}
    for key in (fmt.FRAME_INDEX, fmt.EPISODE_INDEX, fmt.INDEX, fmt.TASK_INDEX):
        feats[key] = {"dtype": "int64", "shape": [1], "names": None}
    return feats


def _arrow_column(values: Any, feature: dict[str, Any], key: str, length: int):
    import pyarrow as pa

    if feature["dtype"] == "string":
        if len(values) != length:
            raise ValueError(f"column {key!r} has {len(values)} rows, expected {length}")
        return pa.array([str(v) for v in values], pa.string())
    arr = np.asarray(values, dtype=feature["dtype"])
    shape = tuple(feature["shape"])
    if shape == (1,) and arr.ndim == 1:
        arr = arr.reshape(length)
        return pa.array(arr)
    if arr.shape != (length, *shape):
        raise ValueError(f"column {key!r} has shape {arr.shape}, expected {(length, *shape)}")
    flat = pa.array(arr.reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(shape)))


class DatasetWriter:
    """Single writer of a dataset directory (recorder workers stage videos; this commits).

    Use :meth:`create` for a new dataset and :meth:`resume` to continue one.
    """

    def __init__(self, meta: DatasetMeta, video: VideoConfig) -> None:
        self.meta, self.video = meta, video
        self._meta_written = -float("inf")  # the first episode is listed at once
        self._task_ids = {t: i for i, t in meta.tasks.items()}

    # ---- construction --------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        root: str | Path,
        fps: int,
        features: dict[str, dict[str, Any]],
        robot_type: str | None = None,
        hivla: dict[str, Any] | None = None,
        video: VideoConfig = DEFAULT_VIDEO,
    ) -> DatasetWriter:
        """Start an empty dataset at ``root`` (which must not hold a dataset already)."""
        root = Path(root)
        if (root / fmt.INFO_PATH).exists():
            raise FileExistsError(
                f"{root} already holds a dataset; pass --resume to continue it or choose another directory"
            )
        if fps < 1:
            raise ValueError(f"fps must be >= 1, got {fps}")
        check_encoder(video.codec)
        features = {**features, **{k: v for k, v in index_features().items() if k not in features}}
        info = {
            "codebase_version": fmt.CODEBASE_VERSION,
            "robot_type": robot_type,
            "total_episodes": 0,
            "total_frames": 0,
            "total_tasks": 0,
            "chunks_size": fmt.CHUNKS_SIZE,
            "data_files_size_in_mb": fmt.DATA_FILES_SIZE_IN_MB,
            "video_files_size_in_mb": fmt.VIDEO_FILES_SIZE_IN_MB,
            "fps": int(fps),
            "splits": {"train": "0:0"},
            "data_path": fmt.DATA_PATH,
            "video_path": fmt.VIDEO_PATH,
            "features": features,
            "hivla_format_version": fmt.HIVLA_FORMAT_VERSION,
            "hivla": {
                "writer": f"hivla {__version__}",
                "video": video.to_dict(),
                **(hivla or {}),
            },
        }  # fmt: skip
        meta = DatasetMeta(root, info)
        meta.write()
        return cls(meta, video)

    @classmethod
    def resume(cls, root: str | Path) -> DatasetWriter:
        """Reopen ``root``: drop staging and uncommitted files, rebuild ``meta/`` from whole episodes."""
        root = Path(root)
        paths = fmt.Paths(root)
        if not paths.info.is_file():
            raise DatasetError(paths.info, "nothing to resume: meta/info.json is missing")
        import json as _json

        info = _json.loads(paths.info.read_text())
        from hivla.data.meta import check_versions

        check_versions(info, paths.info)
        if info.get("hivla_format_version") is None:
            raise DatasetError(paths.info, "only datasets written by hivla can be resumed")
        video = VideoConfig.from_dict(info["hivla"]["video"])
        shutil.rmtree(paths.staging, ignore_errors=True)
        for tmp in root.glob("data/chunk-*/.*.tmp"):
            tmp.unlink()
        episodes = _committed_episodes(root, info)
        meta = DatasetMeta(root, info, episodes=episodes)
        meta.tasks = {}
        for e in episodes:
            for t, i in zip(e["tasks"], e["hivla/task_indices"], strict=True):
                meta.tasks[int(i)] = t
        _remove_orphan_videos(meta)
        meta.write()
        return cls(meta, video)

    # ---- writing -------------------------------------------------------------------------------
    @property
    def n_episodes(self) -> int:
        return len(self.meta.episodes)

    def staging_path(self, name: str = "") -> Path:
        """A fresh path under ``.staging/`` (same filesystem, so the final rename is atomic)."""
        d = self.meta.paths.staging
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{uuid.uuid4().hex}{name}"

    def task_index(self, task: str) -> int:
        if task not in self._task_ids:
            self._task_ids[task] = len(self._task_ids)
            self.meta.tasks[self._task_ids[task]] = task
        return self._task_ids[task]

    def add_episode(self, ep: Episode, write_meta: bool = True) -> int:
        """Commit ``ep`` atomically; return its episode index."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta, paths = self.meta, self.meta.paths
        idx, length = self.n_episodes, ep.length
        if length < 1:
            raise ValueError("an episode needs at least one frame")
        chunk, file = fmt.chunk_file(idx, meta.info["chunks_size"])
        start = meta.total_frames
        task_index = self.task_index(ep.task)
        # Encode (or take the staged) videos first; nothing is visible yet.
        staged: dict[str, Path] = {}
        for key in meta.video_keys:
            cam = key.removeprefix(fmt.IMAGE_PREFIX)
            if cam not in ep.images:
                raise ValueError(f"episode lacks camera {cam!r}; the dataset has {meta.cameras}")
            src = ep.images[cam]
            if isinstance(src, str | Path):
                staged[key] = Path(src)
            else:
                if len(src) != length:
                    raise ValueError(f"camera {cam!r} has {len(src)} frames, expected {length}")
                staged[key] = encode_video(
                    src, self.staging_path(".mp4"), meta.fps, self.video, pad_odd=False
                )
        row = self._episode_row(ep, idx, chunk, file, start, task_index)
        cols = {}
        for key, feat in meta.features.items():
            if feat["dtype"] == "video" or key in fmt.LEROBOT_INDEX_COLUMNS:
                continue
            if key not in ep.frames:
                raise ValueError(f"episode lacks column {key!r} declared in the dataset features")
            cols[key] = _arrow_column(ep.frames[key], feat, key, length)
        frame_index = np.arange(length, dtype=np.int64)
        cols[fmt.TIMESTAMP] = pa.array((frame_index / meta.fps).astype(np.float32))
        cols[fmt.FRAME_INDEX] = pa.array(frame_index)
        cols[fmt.EPISODE_INDEX] = pa.array(np.full(length, idx, np.int64))
        cols[fmt.INDEX] = pa.array(start + frame_index)
        cols[fmt.TASK_INDEX] = pa.array(np.full(length, task_index, np.int64))
        row.update(self._episode_stats(ep, cols, staged))
        table = pa.table(cols)
        final = paths.data(chunk, file)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp")
        with pq.ParquetWriter(tmp, table.schema) as pw:
            pw.write_table(table)
            # In the footer only (not also inside the stored Arrow schema, which would double it).
            pw.add_key_value_metadata({EPISODE_META_KEY: json.dumps(row, separators=(",", ":"))})
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        for key, src in staged.items():
            dst = paths.video(key, chunk, file)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        os.replace(tmp, final)  # the commit point
        meta.episodes.append(row)
        if write_meta and time.monotonic() - self._meta_written >= META_INTERVAL_S:
            meta.write()
            self._meta_written = -float("inf")  # the first episode is listed at once
        return idx

    def _episode_stats(self, ep: Episode, cols: dict[str, Any], staged: dict[str, Path]) -> dict[str, Any]:
        """LeRobot's per-episode ``stats/<feature>/<stat>`` columns (numeric columns and cameras)."""
        from hivla.data.reader import column_to_numpy
        from hivla.data.stats import episode_stats

        numeric = {
            k: column_to_numpy(c) for k, c in cols.items() if self.meta.features[k]["dtype"] != "string"
        }
        images = {}
        for key, path in staged.items():
            src = ep.images[key.removeprefix(fmt.IMAGE_PREFIX)]
            images[key] = src if isinstance(src, np.ndarray) else decode_video(path, self.meta.fps)
        return episode_stats(numeric, images)

    def _episode_row(self, ep: Episode, idx: int, chunk: int, file: int, start: int, task_index: int):
        length, fps = ep.length, self.meta.fps
        row: dict[str, Any] = {
            "episode_index": idx,
            "tasks": [ep.task],
            "length": length,
            "data/chunk_index": chunk,
            "data/file_index": file,
            "dataset_from_index": start,
            "dataset_to_index": start + length,
        }
        for key in self.meta.video_keys:
            row[f"videos/{key}/chunk_index"] = chunk
            row[f"videos/{key}/file_index"] = file
            row[f"videos/{key}/from_timestamp"] = 0.0
            row[f"videos/{key}/to_timestamp"] = length / fps
        row["meta/episodes/chunk_index"], row["meta/episodes/file_index"] = 0, 0
        row["hivla/task_indices"] = [task_index]
        for k, v in ep.info.items():
            row[f"hivla/{k}"] = json.dumps(v) if isinstance(v, dict | list) else v
        return row

    def close(self) -> None:
        self.meta.write()
        shutil.rmtree(self.meta.paths.staging, ignore_errors=True)


def _committed_episodes(root: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The meta rows stored in each committed data file, checked to be 0..n-1 without gaps."""
    import pyarrow.parquet as pq

    rows = []
    for f in sorted(root.glob("data/chunk-*/file-*.parquet")):
        try:
            md = pq.read_metadata(f).metadata or {}
        except Exception as e:
            raise DatasetError(
                f, f"cannot read parquet footer ({e})", "Delete the file to drop the episode."
            ) from e
        if EPISODE_META_KEY not in md:
            raise DatasetError(f, "data file has no hivla episode metadata; cannot resume this dataset")
        rows.append(json.loads(md[EPISODE_META_KEY]))
    rows.sort(key=lambda r: r["episode_index"])
    for i, r in enumerate(rows):
        if r["episode_index"] != i:
            raise DatasetError(
                root / "data", f"committed episodes are not contiguous: episode {i} is missing"
            )
    return rows


def _remove_orphan_videos(meta: DatasetMeta) -> None:
    """Delete video files no committed episode points to (left by a crash mid-commit)."""
    keep = {
        meta.paths.video(k, e[f"videos/{k}/chunk_index"], e[f"videos/{k}/file_index"])
        for e in meta.episodes
        for k in meta.video_keys
    }
    for key in meta.video_keys:
        for f in (meta.root / "videos" / key).glob("chunk-*/file-*.mp4"):
            if f not in keep:
                f.unlink()


__all__ = ["DatasetWriter", "Episode", "infer_features", "read_table"]
