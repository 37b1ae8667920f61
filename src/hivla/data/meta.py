"""``meta/``: info.json, the tasks and episodes tables and stats.json; read, validate and write.

Writes are atomic (temp file + ``os.replace``) so a reader never sees a half-written meta file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hivla.data import format as fmt
from hivla.data.errors import DatasetError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_json_default) + "\n").encode())


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def atomic_write_table(path: Path, rows: list[dict[str, Any]], schema=None) -> None:
    import pyarrow as pa

    atomic_write_arrow(path, pa.Table.from_pylist(rows, schema=schema))


def atomic_write_arrow(path: Path, table) -> None:
    """Write a pyarrow table as parquet, atomically."""
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_table(path: Path, what: str):
    """Read a parquet file or raise DatasetError naming it (missing, truncated, corrupt)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DatasetError(path, f"{what} is missing", "Restore it, or re-collect the dataset.")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as e:
        raise DatasetError(
            path,
            f"cannot read {what} as parquet ({e})",
            "The file is truncated or corrupt; restore it or re-collect the episode "
            "(`hivla collect --resume` rebuilds meta from whole episodes).",
        ) from e


def check_versions(info: dict[str, Any], path: Path) -> None:
    """Raise DatasetError for a codebase or hivla format version this code cannot read."""
    cv = info.get("codebase_version")
    if not isinstance(cv, str) or not cv.startswith("v3."):
        raise DatasetError(
            path,
            f"codebase_version {cv!r} is not supported; expected the LeRobot v3 layout ({fmt.CODEBASE_VERSION!r})",
            "Convert older LeRobot datasets (v2.x) to v3 with LeRobot's conversion script first.",
        )
    hv = info.get("hivla_format_version")
    if hv is None:
        return  # a plain LeRobot v3 dataset
    # Format 1 (before 2026-12) differs from 2 only in what LeRobot tools read (tasks as a plain
    # column, fewer info/stats keys, padded odd-size videos); hivla reads both as they are.
    if not isinstance(hv, int) or isinstance(hv, bool) or hv < 1:
        raise DatasetError(path, f"hivla_format_version must be a positive integer, got {hv!r}")
    if hv > fmt.HIVLA_FORMAT_VERSION:
        raise DatasetError(
            path,
            f"hivla_format_version {hv} is newer than this hivla can read (up to {fmt.HIVLA_FORMAT_VERSION})",
            "Upgrade hivla to read this dataset.",
        )


@dataclass
class DatasetMeta:
    """Everything under ``meta/``: info, tasks, episodes (one dict per episode) and stats."""

    root: Path
    info: dict[str, Any]
    tasks: dict[int, str] = field(default_factory=dict)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def paths(self) -> fmt.Paths:
        return fmt.Paths(self.root)

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def features(self) -> dict[str, dict[str, Any]]:
        return self.info["features"]

    @property
    def video_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f.get("dtype") == "video"]

    @property
    def camera_keys(self) -> list[str]:
        """Image features stored as video or as images (LeRobot's ``dtype: image``, PNG in parquet)."""
        return [k for k, f in self.features.items() if f.get("dtype") in ("video", "image")]

    @property
    def cameras(self) -> list[str]:
        return [k.removeprefix(fmt.IMAGE_PREFIX) for k in self.camera_keys]

    @property
    def total_frames(self) -> int:
        return sum(int(e["length"]) for e in self.episodes)

    @property
    def video_only(self) -> bool:
        """True for a dataset recorded without actions (``hivla collect --video-only``)."""
        return bool(self.info.get("hivla", {}).get("video_only", False))

    @property
    def hivla_version(self) -> int | None:
        return self.info.get("hivla_format_version")

    # ---- reading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, root: str | Path) -> DatasetMeta:
        """Read and validate ``meta/``. Raises DatasetError naming the file at fault."""
        root = Path(root)
        paths = fmt.Paths(root)
        if not root.is_dir():
            raise DatasetError(root, "dataset directory does not exist", "Check the path.")
        if not paths.info.is_file():
            raise DatasetError(
                paths.info, "meta/info.json is missing; this is not a LeRobot v3 / hivla dataset"
            )
        try:
            info = json.loads(paths.info.read_text())
        except json.JSONDecodeError as e:
            raise DatasetError(paths.info, f"invalid JSON ({e})", "The file is truncated or corrupt.") from e
        check_versions(info, paths.info)
        for key in ("fps", "features"):
            if key not in info:
                raise DatasetError(paths.info, f"required key {key!r} is missing")
        meta = cls(root, info)
        meta.tasks = _read_tasks(paths.tasks)
        meta.episodes = _read_episodes(root, info)
        meta.stats = json.loads(paths.stats.read_text()) if paths.stats.is_file() else {}
        return meta

    # ---- writing -------------------------------------------------------------------------------
    def write(self) -> None:
        """Write tasks, episodes, then info.json last (it carries the totals)."""
        paths = self.paths
        write_tasks(paths.tasks, self.tasks)
        if self.episodes:
            atomic_write_table(paths.episodes, self.episodes)
        elif paths.episodes.exists():
            paths.episodes.unlink()
        n = len(self.episodes)
        self.info.setdefault("data_files_size_in_mb", fmt.DATA_FILES_SIZE_IN_MB)  # LeRobot requires both
        self.info.setdefault("video_files_size_in_mb", fmt.VIDEO_FILES_SIZE_IN_MB)
        self.info.update(
            total_episodes=n,
            total_frames=self.total_frames,
            total_tasks=len(self.tasks),
            splits={"train": f"0:{n}"},
        )
        atomic_write_json(paths.info, self.info)

    def write_stats(self, stats: dict[str, dict[str, Any]]) -> None:
        self.stats = stats
        atomic_write_json(self.paths.stats, stats)


def write_tasks(path: Path, tasks: dict[int, str]) -> None:
    """``meta/tasks.parquet`` as LeRobot keeps it: a pandas DataFrame whose index is the task text
    (named ``task``) with one column ``task_index``, saved with pandas' schema metadata so that
    ``pandas.read_parquet`` restores the text as the index (pandas itself is not needed here)."""
    import pyarrow as pa

    rows = sorted(tasks.items())
    table = pa.table(
        {
            "task_index": pa.array([i for i, _ in rows], pa.int64()),
            "task": pa.array([t for _, t in rows], pa.string()),
        }
    )
    atomic_write_arrow(path, table.replace_schema_metadata({b"pandas": json.dumps(_pandas_index_meta())}))


def _pandas_index_meta() -> dict[str, Any]:
    """pandas' parquet schema metadata for a frame (task_index: int64) indexed by ``task`` (str)."""
    col = {"field_name": None, "metadata": None}
    return {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {**col, "name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64"},
            {**col, "name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object"},
        ],
        "creator": {"library": "pyarrow", "version": _pyarrow_version()},
        "pandas_version": "2.2.3",
    }  # fmt: skip


def _pyarrow_version() -> str:
    import pyarrow as pa

    return pa.__version__


def _read_tasks(path: Path) -> dict[int, str]:
    """task_index -> task text. The text is the pandas index LeRobot saves (named ``task``, or
    ``__index_level_0__`` when unnamed, as LeRobot 0.4 writes it); hivla format 1 wrote a plain
    ``task`` column. All three read the same."""
    if not path.is_file():
        return {}
    table = read_table(path, "the tasks table")
    cols = table.column_names
    pandas_meta = json.loads((table.schema.metadata or {}).get(b"pandas", b"{}"))
    index_cols = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str) and c in cols]
    text_col = next(
        (c for c in (*index_cols, "task", "__index_level_0__") if c in cols and c != "task_index"), None
    )
    if "task_index" not in cols or text_col is None:
        raise DatasetError(
            path,
            f"expected a task_index column and the task text (pandas index or a 'task' column), found {cols}",
            "Rewrite the tasks table with LeRobot or hivla.",
        )
    return dict(zip(table["task_index"].to_pylist(), table[text_col].to_pylist(), strict=True))


def _read_episodes(root: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of every ``meta/episodes/chunk-*/file-*.parquet``, sorted by episode_index, without the
    per-episode ``stats/...`` columns (as LeRobot's reader: only the writer needs them)."""
    files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not files:
        if info.get("total_episodes", 0):
            raise DatasetError(
                root / fmt.EPISODES_PATH,
                f"the episodes table is missing but info.json lists {info['total_episodes']} episodes",
            )
        return []
    rows = []
    for f in files:
        table = read_table(f, "the episodes table")
        missing = [c for c in ("episode_index", "length") if c not in table.column_names]
        if missing:
            raise DatasetError(f, f"episodes table lacks columns {missing}")
        rows.extend(table.select([c for c in table.column_names if not c.startswith("stats/")]).to_pylist())
    rows.sort(key=lambda r: r["episode_index"])
    return rows
