"""Which dataset ``hivla train`` reads: a recorded dataset directory, or synthetic frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.configs.presets import DataConfig
from hivla.errors import HivlaError
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.training.data import SyntheticSpec, SyntheticVLADataset


def make_dataset(data: DataConfig, policy: VLAConfig) -> Any:
    """``data.path`` empty: :class:`SyntheticVLADataset` shaped for ``policy``; else the recorded
    dataset, or several read as one (:class:`ConcatVLADataset`)."""
    if not data.path:
        embodiments = ("floating", "arm6", "arm5") if policy.action_space == "universal" else ("floating",)
        spec = SyntheticSpec(
            size=data.synthetic_size, image_size=policy.image_size, horizon=policy.horizon,
            cameras=tuple(policy.cameras), embodiments=embodiments,
        )  # fmt: skip
        return SyntheticVLADataset(spec)
    parts = [load_recorded(p, policy, data.keys, data.video_cache_mb) for p in data.paths()]
    if policy.action_space == "universal":
        widths = {str(p.root): int(p.inner.meta.features["action.universal"]["shape"][0]) for p in parts}
        check_universal_widths(widths, "datasets", policy.head.kind)
    return parts[0] if len(parts) == 1 else ConcatVLADataset(parts)


class UniversalWidthError(HivlaError, ValueError):
    """Universal actions of 7 and 10 values (fixed and mobile bodies) with a head that cannot mask."""


def check_universal_widths(widths: dict[str, int], between: str, head: str) -> bool:
    """True when universal actions of different widths (7 values, or 10 with a wheeled base) train
    together: the narrower are padded to the widest and their missing dimensions masked out of the
    loss, which action head ``head`` must support (``MASKED_HEADS``), else :class:`UniversalWidthError`.
    ``widths``: name -> width of each of the ``between`` (datasets, embodiments)."""
    from hivla.policies.vla.processor_vla import MASKED_HEADS

    if len(set(widths.values())) <= 1:
        return False
    if head not in MASKED_HEADS:
        raise UniversalWidthError(
            f"the universal actions differ in width between {between} {widths}: a body with a wheeled base "
            "records 10 values (the 7 end-effector values and the base part), a fixed one 7. Training on "
            f"both masks the missing base part out of the loss, which the {head!r} head cannot do: use "
            f"--head {' | '.join(MASKED_HEADS)}, or train on bodies of one kind"
        )
    return True


def load_recorded(path: str, policy: VLAConfig, keys: str = "", video_cache_mb: int = 1024) -> Any:
    """A LeRobot-v3-layout dataset (``hivla collect`` or LeRobot), with chunks of ``policy.horizon``.

    ``keys``: ``DataConfig.keys``, the dataset columns the policy's cameras/state/action read;
    ``video_cache_mb``: ``DataConfig.video_cache_mb``, the decoded-frame budget of this dataset.
    """
    from hivla.data.keymap import KeyMap

    return RecordedVLADataset(path, policy, keys=KeyMap.parse(keys), cache_bytes=video_cache_mb << 20)


KEEP_KEYS = (
    "observation.state", "action", "action.universal", "action_is_pad", "task", "subtask", "reasoning",
    "embodiment", "episode_index", "annotation.target_uv",
)  # fmt: skip


class RecordedVLADataset(torch.utils.data.Dataset):
    """:class:`hivla.data.ChunkDataset` (one observation frame, chunks of ``policy.horizon``, the
    policy's cameras) reduced to the keys a VLA policy reads, plus the fast paths the trainer
    uses: ``fit_arrays`` (statistics from the parquet columns, no video decoding),
    ``episode_indices`` (validation split by episode) and ``fingerprint`` (feature cache key).

    ``keys`` maps the policy's cameras, state and action to the dataset's columns (a LeRobot
    dataset recorded elsewhere); what the policy needs and the dataset lacks is refused at open.
    ``episodes``: read only these episode indices (empty: all).
    """

    def __init__(
        self,
        root: str | Path,
        policy: VLAConfig,
        preload: bool = False,
        keys: Any = None,
        cache_bytes: int = 1 << 30,
        episodes: tuple[int, ...] = (),
    ) -> None:
        from hivla.data import ChunkDataset, EpisodeFilter, LoaderConfig
        from hivla.data.keymap import KeyMap

        self.root = Path(root)
        self.horizon = policy.horizon
        self.keymap = keys or KeyMap()
        cfg = LoaderConfig(
            n_obs_steps=1, horizon=policy.horizon, cameras=tuple(policy.cameras), preload=preload, cache_bytes=cache_bytes,
            action_key=self.keymap.action, state_key=self.keymap.state, camera_keys=self.keymap.cameras,
            filter=EpisodeFilter(episodes=tuple(episodes)), sensors=policy.sensors,
        )  # fmt: skip
        self.episode_subset = tuple(episodes)
        self.inner = ChunkDataset(self.root, cfg)
        check_usable(self.inner, policy, self.keymap)
        self.keys = (*KEEP_KEYS, *(f"observation.images.{c}" for c in policy.cameras))
        depth = ("depth", "camera_pose", "camera_intrinsics") if policy.depth else ()
        self.keys += tuple(f"observation.{k}.{c}" for c in policy.cameras for k in depth)
        self.keys += ("observation.contact",) if policy.contact else ()

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = self.inner[i]
        out = {k: item[k] for k in self.keys if k in item}
        out.setdefault("embodiment", self._default_embodiment())
        return out

    def _default_embodiment(self) -> str:
        rows = self.inner.episodes
        return str(rows[0].get("hivla/embodiment", "default")) if rows else "default"

    def _column(self, key: str) -> np.ndarray:
        key = {"observation.state": self.keymap.state, "action": self.keymap.action}.get(key, key)
        cols = self.inner.frames.columns
        if key not in cols:
            raise KeyError(f"dataset {self.root} has no {key!r} column; columns: {sorted(cols)}")
        return np.asarray(cols[key])

    def reasoning_column(self) -> np.ndarray:
        """The expert's reasoning string per frame (str[N])."""
        return self._column("reasoning")

    def episode_indices(self) -> list[int]:
        return self._column("episode_index").astype(np.int64).tolist()

    def fingerprint(self) -> str:
        info = self.root / "meta" / "info.json"
        stamp = info.stat().st_mtime_ns if info.is_file() else 0
        keys = "" if self.keymap.is_identity else f":{self.keymap}"
        subset = f":episodes={list(self.episode_subset)}" if self.episode_subset else ""
        return f"{self.root.resolve()}:{len(self)}:{stamp}:{self.horizon}:{sorted(self.inner.cameras)}{keys}{subset}"

    def fit_arrays(self, action_key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(states float[N, S], chunks float[N, H, A]) per embodiment, from the columns alone."""
        frames = self.inner.frames
        n = len(self)
        state = self._column("observation.state").astype(np.float32).reshape(n, -1)
        action = self._column(action_key).astype(np.float32).reshape(n, -1)
        cols = frames.columns
        embs = np.asarray(cols["embodiment"], dtype=object) if "embodiment" in cols else None
        starts = np.repeat(frames.starts, frames.lengths)  # (N,)
        lengths = np.repeat(frames.lengths, frames.lengths)  # (N,)
        t = np.arange(n) - starts  # (N,) frame within its episode
        steps = np.minimum(t[:, None] + np.arange(self.horizon)[None], lengths[:, None] - 1)  # (N, H)
        chunks = action[starts[:, None] + steps]  # (N, H, A)
        names = embs.astype(str) if embs is not None else np.full(n, self._default_embodiment())
        states_out, chunks_out = {}, {}
        for name in sorted(set(names.tolist())):
            rows = names == name
            states_out[name], chunks_out[name] = state[rows], chunks[rows]
        return states_out, chunks_out


def check_usable(inner: Any, policy: VLAConfig, keys: Any) -> None:
    """Refuse, naming the fix, a dataset lacking what ``policy`` trains on (plain LeRobot datasets
    have no universal actions, subtasks or reasoning traces)."""
    from hivla.data import DatasetError

    cols = inner.frames.columns
    needs = []
    if policy.action_space == "universal":
        needs.append(("action.universal", "train with --action-space native (the dataset's own actions)"))
    if policy.language_key == "subtask":
        needs.append(("subtask", "train with --language task (the dataset's task text)"))
    if policy.reasoning.enabled:
        needs.append(("reasoning", "train without --reasoning"))
    for column, fix in needs:
        if column not in cols:
            raise DatasetError(
                inner.root,
                f"the policy needs a {column!r} column, which this dataset lacks (columns: {sorted(cols)})",
                f"hivla annotations come from `hivla collect`; for this dataset, {fix}.",
            )
    if policy.action_space == "universal" and keys.action != "action":
        from hivla.data.keymap import KeyMapError

        raise KeyMapError(
            f"--data-keys action={keys.action} has no effect with universal actions; use native"
        )


class ConcatVLADataset(torch.utils.data.Dataset):
    """Several :class:`RecordedVLADataset` read as one: samples in order, episode indices made
    distinct (dataset k's episodes follow dataset k-1's), and the trainer's fast paths
    (``fit_arrays`` per embodiment, ``reasoning_column``, ``fingerprint``) over all of them.

    The datasets may hold different embodiments (train a universal-action policy on all) or be
    expert data plus relabelled rollouts (``hivla dagger``); each keeps its own video decoding.
    """

    def __init__(self, parts: list[RecordedVLADataset]) -> None:
        if not parts:
            raise ValueError("ConcatVLADataset needs at least one dataset")
        self.parts = parts
        self.offsets = np.cumsum([0, *(len(p) for p in parts)])  # (K + 1,)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} frames")
        k = int(np.searchsorted(self.offsets, i, side="right")) - 1
        return self.parts[k][i - int(self.offsets[k])]

    def episode_indices(self) -> list[int]:
        out: list[int] = []
        base = 0
        for part in self.parts:
            episodes = np.asarray(part.episode_indices(), np.int64)
            out.extend((episodes + base).tolist())
            base += int(episodes.max()) + 1 if len(episodes) else 0
        return out

    def reasoning_column(self) -> np.ndarray:
        return np.concatenate([p.reasoning_column() for p in self.parts])

    def fingerprint(self) -> str:
        return "+".join(p.fingerprint() for p in self.parts)

    def fit_arrays(self, action_key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """States and chunks per embodiment over every dataset (see ``RecordedVLADataset.fit_arrays``)."""
        states: dict[str, list[np.ndarray]] = {}
        chunks: dict[str, list[np.ndarray]] = {}
        for part in self.parts:
            part_states, part_chunks = part.fit_arrays(action_key)
            for name in part_states:
                states.setdefault(name, []).append(part_states[name])
                chunks.setdefault(name, []).append(part_chunks[name])
        widths = {name: {a.shape[1] for a in arrays} for name, arrays in states.items()}
        for name, sizes in widths.items():
            if len(sizes) > 1:
                raise ValueError(
                    f"the datasets disagree on the state size of embodiment {name!r}: {sorted(sizes)}; "
                    "train on datasets recorded with the same embodiment definition"
                )
        return (
            {k: np.concatenate(v) for k, v in states.items()},
            {k: np.concatenate(v) for k, v in chunks.items()},
        )
