"""Read frames back: parquet columns into numpy (validated against meta) and a decoded-video LRU cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta, read_table
from hivla.data.video import count_frames, decode_video


def column_to_numpy(col) -> np.ndarray:
    """A pyarrow (chunked) column -> numpy: vectors as [N, D], strings as object[N], scalars as [N]."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_fixed_size_list(t):
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), t.list_size)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        lengths = np.diff(col.offsets.to_numpy())
        if len(col) and not np.all(lengths == lengths[0]):
            raise ValueError("list column has rows of different lengths")
        width = int(lengths[0]) if len(col) else 0
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), width)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return np.array(col.to_pylist(), dtype=object)
    return col.to_numpy(zero_copy_only=False)


def image_hw(feature: dict[str, Any]) -> tuple[int, int]:
    """(H, W) of an image/video feature whose shape is [H, W, C] or [C, H, W] (per its names)."""
    shape, names = feature["shape"], feature.get("names") or []
    if names and names[0] in ("channel", "channels"):
        return int(shape[1]), int(shape[2])
    return int(shape[0]), int(shape[1])


class FrameTable:
    """The non-video columns of the chosen episodes, concatenated in episode order.

    ``columns[key]`` is numpy ([N] or [N, D] or object[N] for text); ``starts[i]``/``lengths[i]``
    locate episode ``episodes[i]`` in it. Raises DatasetError for missing, truncated or
    inconsistent data files.
    """

    def __init__(self, meta: DatasetMeta, episodes: list[dict[str, Any]], keys: list[str] | None = None):
        self.meta, self.episodes = meta, episodes
        template = meta.info.get("data_path", fmt.DATA_PATH)
        by_file: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for e in episodes:
            by_file.setdefault((int(e["data/chunk_index"]), int(e["data/file_index"])), []).append(e)
        parts: dict[int, dict[str, np.ndarray]] = {}
        for (chunk, file), eps in by_file.items():
            path = meta.paths.data(chunk, file, template)
            table = read_table(path, f"data file of episode(s) {[e['episode_index'] for e in eps]}")
            declared = [k for k, f in meta.features.items() if f.get("dtype") not in ("video", "image")]
            wanted = list(dict.fromkeys([*(keys or declared), fmt.EPISODE_INDEX]))
            missing = [k for k in wanted if k not in table.column_names]
            if missing:
                raise DatasetError(path, f"columns {missing} declared in meta/info.json are missing")
            ep_col = column_to_numpy(table[fmt.EPISODE_INDEX])
            cols = {k: column_to_numpy(table[k]) for k in wanted}
            for e in eps:
                rows = np.flatnonzero(ep_col == e["episode_index"])
                if len(rows) != int(e["length"]):
                    raise DatasetError(
                        path,
                        f"mismatched frame counts: {len(rows)} rows for episode {e['episode_index']}, "
                        f"but meta/episodes says its length is {e['length']}",
                        "The data file and meta disagree; re-collect the episode or run `hivla collect --resume`.",
                    )
                parts[int(e["episode_index"])] = {k: v[rows] for k, v in cols.items()}
        self.lengths = np.array([int(e["length"]) for e in episodes], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        names = list(next(iter(parts.values())).keys()) if parts else []
        self.columns = {
            k: np.concatenate([parts[int(e["episode_index"])][k] for e in episodes]) for k in names
        }

    def __len__(self) -> int:
        return int(self.lengths.sum())


class VideoCache:
    """Decoded episodes (uint8[T, H, W, 3] per camera) kept in an LRU bounded by ``max_bytes``.

    Cameras are video features (mp4) or image features (LeRobot's ``dtype: image``: one PNG/JPEG
    per frame inside the data parquet, as ``{bytes, path}``).

    Decoding a whole episode once and slicing it keeps random access cheap. Each DataLoader
    worker process holds its own cache; ``preload`` fills it before workers fork.
    """

    def __init__(self, meta: DatasetMeta, max_bytes: int = 1 << 30) -> None:
        self.meta, self.max_bytes = meta, max_bytes
        self._items: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __getstate__(self) -> dict[str, Any]:
        # Picklable for spawn-started DataLoader workers: they start with an empty cache.
        state = dict(self.__dict__)
        state.update(_items=OrderedDict(), _bytes=0, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def get(self, episode: dict[str, Any], key: str) -> np.ndarray:
        ident = (int(episode["episode_index"]), key)
        with self._lock:
            if ident in self._items:
                self._items.move_to_end(ident)
                self.hits += 1
                return self._items[ident]
        self.misses += 1
        frames = self.decode(episode, key)
        with self._lock:
            self._items[ident] = frames
            self._bytes += frames.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes
        return frames

    def decode(self, episode: dict[str, Any], key: str) -> np.ndarray:
        """Decode one episode's frames of camera feature ``key``; check the count against meta."""
        if self.meta.features[key].get("dtype") == "image":
            return self.decode_images(episode, key)
        path = self.video_path(episode, key)
        fps = self.meta.fps
        from_ts = float(episode.get(f"videos/{key}/from_timestamp", 0.0))
        to_ts = float(episode.get(f"videos/{key}/to_timestamp", from_ts + episode["length"] / fps))
        hw = image_hw(self.meta.features[key])
        frames = decode_video(path, fps, from_ts, to_ts, shape=hw)
        if len(frames) != int(episode["length"]):
            raise DatasetError(
                path,
                f"mismatched frame counts: the video has {len(frames)} frames for episode "
                f"{episode['episode_index']} in [{from_ts:.3f}s, {to_ts:.3f}s), but the episode has "
                f"{episode['length']} frames",
                "Re-encode or re-collect the episode.",
            )
        return frames

    def decode_images(self, episode: dict[str, Any], key: str) -> np.ndarray:
        """One episode's frames of an image feature stored in the data parquet: uint8[T, H, W, 3]."""
        template = self.meta.info.get("data_path", fmt.DATA_PATH)
        path = self.meta.paths.data(
            int(episode["data/chunk_index"]), int(episode["data/file_index"]), template
        )
        table = read_table(path, f"data file of episode {episode['episode_index']}")
        if key not in table.column_names:
            raise DatasetError(path, f"image feature {key!r} declared in meta/info.json has no column")
        rows = np.flatnonzero(column_to_numpy(table[fmt.EPISODE_INDEX]) == episode["episode_index"])
        cells = table[key].take(rows).to_pylist()
        if len(cells) != int(episode["length"]):
            raise DatasetError(
                path,
                f"mismatched frame counts: {len(cells)} images of {key!r} for episode "
                f"{episode['episode_index']}, but meta/episodes says {episode['length']}",
            )
        h, w = image_hw(self.meta.features[key])
        frames = np.stack([self._image(cell, path, key) for cell in cells])  # (T, H, W, 3)
        if frames.shape[1:] != (h, w, 3):
            raise DatasetError(
                path, f"images of {key!r} are {list(frames.shape[1:])}, meta/info.json declares {[h, w, 3]}"
            )
        return frames

    def _image(self, cell: Any, path, key: str) -> np.ndarray:
        import io

        from PIL import Image

        data = cell.get("bytes") if isinstance(cell, dict) else cell
        if data is None and isinstance(cell, dict) and cell.get("path"):
            data = (self.meta.root / cell["path"]).read_bytes()
        if not data:
            raise DatasetError(path, f"an image of {key!r} has neither bytes nor a readable path")
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"))

    def video_path(self, episode: dict[str, Any], key: str):
        template = self.meta.info.get("video_path") or fmt.VIDEO_PATH
        chunk = int(episode.get(f"videos/{key}/chunk_index", episode.get("data/chunk_index", 0)))
        file = int(episode.get(f"videos/{key}/file_index", episode.get("data/file_index", 0)))
        path = self.meta.paths.video(key, chunk, file, template)
        if not path.is_file():
            raise DatasetError(
                path,
                f"video file is missing (feature {key!r}, episode {episode['episode_index']})",
                "Restore the file or re-collect the episode.",
            )
        return path

    def check_files(self, episodes: list[dict[str, Any]]) -> None:
        """Cheap checks at open: every video exists and its header holds as many frames as meta says."""
        need: dict[Any, float] = {}
        for e in episodes:
            for key in self.meta.video_keys:
                p = self.video_path(e, key)
                to = float(e.get(f"videos/{key}/to_timestamp", e["length"] / self.meta.fps))
                need[p] = max(need.get(p, 0.0), to)
        for p, to in need.items():
            n = count_frames(p)
            expected = int(round(to * self.meta.fps))
            if n is not None and n != expected:
                raise DatasetError(
                    p,
                    f"mismatched frame counts: the video holds {n} frames but meta/episodes says "
                    f"{expected} (up to {to:.3f}s)",
                    "Re-encode or re-collect the episode.",
                )
