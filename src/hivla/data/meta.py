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
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=schema)
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
    def cameras(self) -> list[str]:
        return [k.removeprefix(fmt.IMAGE_PREFIX) for k in self.video_keys]

    @property
    def total_frames(self) -> int:
        return sum(int(e["length"]) for e in self.episodes)

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
        atomic_write_table(
            paths.tasks,
            [{"task_index": i, "task": t} for i, t in sorted(self.tasks.items())],
            _tasks_schema(),
        )
        if self.episodes:
            atomic_write_table(paths.episodes, self.episodes)
        elif paths.episodes.exists():
            paths.episodes.unlink()
        n = len(self.episodes)
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


def _tasks_schema():
    import pyarrow as pa

    return pa.schema([("task_index", pa.int64()), ("task", pa.string())])


def _read_tasks(path: Path) -> dict[int, str]:
    """task_index -> task text. Accepts a ``task`` column or pandas' saved index (LeRobot writes that)."""
    if not path.is_file():
        return {}
    table = read_table(path, "the tasks table")
    cols = table.column_names
    text_col = next(
        (c for c in ("task", "__index_level_0__") if c in cols),
        next((c for c in cols if c != "task_index"), None),
    )
    if "task_index" not in cols or text_col is None:
        raise DatasetError(path, f"expected columns task_index and task, found {cols}")
    return dict(zip(table["task_index"].to_pylist(), table[text_col].to_pylist(), strict=True))


def _read_episodes(root: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of every ``meta/episodes/chunk-*/file-*.parquet``, sorted by episode_index."""
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
        rows.extend(table.to_pylist())
    rows.sort(key=lambda r: r["episode_index"])
    return rows
