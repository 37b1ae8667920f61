"""Finished work of the world-model experiment, kept in its output directory so a rerun reuses it.

* :class:`RowCache`: episode rows of the veto and replanning evaluations, one JSON line each,
  appended as episodes finish, in a file named by a hash of the evaluation's config (another
  config, another file).
* :func:`save_episodes` / :func:`load_cached_episodes`: the probe's held-out rollouts of one
  condition (images, states, actions, events; NumPy ``.npz`` without pickle, the episode info as
  JSON), reused when the recorded key (policy, suite, seeds, sizes) matches.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from hivla.world_model.data import EpisodeArrays

# how the work was run, not what it produced: never part of a cache key
EXECUTION_FIELDS = ("workers", "backend", "address")


def what_made(key: dict[str, Any]) -> dict[str, Any]:
    """``key`` without its execution fields (a cache written before one was added still matches)."""
    return {k: v for k, v in key.items() if k not in EXECUTION_FIELDS}


def config_key(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able config."""
    return hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


class RowCache:
    """Rows keyed by (condition, arm, seed) under ``root/name/<hash of config>.jsonl``."""

    def __init__(self, root: str | Path, name: str, config: dict[str, Any]) -> None:
        folder = Path(root) / name
        folder.mkdir(parents=True, exist_ok=True)
        key = config_key(config)
        self.path = folder / f"{key}.jsonl"
        (folder / f"{key}.config.json").write_text(json.dumps(config, indent=2, default=str))

    @staticmethod
    def item(row: dict[str, Any]) -> tuple[str, str, int]:
        return (row["condition"], row["arm"], int(row["seed"]))

    def load(self) -> dict[tuple[str, str, int], dict[str, Any]]:
        """The rows finished so far (a line cut short by an interrupted run is dropped)."""
        rows = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                rows[self.item(row)] = row
        return rows

    def add(self, row: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def _info_split(info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    plain, arrays = {}, {}
    for k, v in info.items():
        if isinstance(v, np.ndarray):
            arrays[f"info.{k}"] = v
        else:
            plain[k] = v
    return plain, arrays


def save_episodes(path: Path, key: dict[str, Any], episodes: list[EpisodeArrays]) -> None:
    """Write ``episodes`` to ``path`` (.npz) with ``key`` (what produced them) beside, as JSON."""
    arrays: dict[str, np.ndarray] = {}
    infos = []
    for i, ep in enumerate(episodes):
        plain, extra = _info_split(ep.info)
        infos.append(plain)
        for cam, frames in ep.images.items():
            arrays[f"{i}/images.{cam}"] = frames
        for name in ("state", "action", "events", "progress"):
            arrays[f"{i}/{name}"] = getattr(ep, name)
        arrays[f"{i}/success"] = np.asarray(ep.success)
        arrays.update({f"{i}/{k}": v for k, v in extra.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    meta = {"key": key, "episodes": len(episodes), "infos": infos}
    path.with_suffix(".json").write_text(json.dumps(meta, default=_json_default))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON-able: {type(o).__name__}")


def load_cached_episodes(path: Path, key: dict[str, Any]) -> list[EpisodeArrays] | None:
    """The episodes saved at ``path`` if they were made with ``key`` (compared as JSON), else None."""
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None
    meta = json.loads(meta_path.read_text())
    if what_made(meta.get("key") or {}) != what_made(json.loads(json.dumps(key, default=_json_default))):
        return None
    out = []
    with np.load(path, allow_pickle=False) as data:
        for i, plain in enumerate(meta["infos"]):
            prefix = f"{i}/"
            fields = {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}
            images = {k[len("images.") :]: v for k, v in fields.items() if k.startswith("images.")}
            info = dict(plain)
            info.update({k[len("info.") :]: v for k, v in fields.items() if k.startswith("info.")})
            out.append(
                EpisodeArrays(
                    images=images, state=fields["state"], action=fields["action"], events=fields["events"],
                    progress=fields["progress"], success=bool(fields["success"]), info=info,
                )
            )  # fmt: skip
    return out
