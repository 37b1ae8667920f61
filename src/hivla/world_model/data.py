"""Transitions for world models: episodes held in memory and the windows training samples.

An :class:`EpisodeArrays` holds ``N`` frames of one episode; frame ``t`` is the observation before
action ``t``. Transition ``t`` (frame t -> frame t + 1 under action t) exists for ``t < N - 1``.
Whether the data came from the simulator or from a dataset directory, the model sees the same
samples (:class:`WindowDataset`)::

    "images.<cam>": uint8[K + 1, 3, s, s]     frames t .. t + K at the model's size
    "state":        float32[K + 1, S]          proprioception (raw units)
    "action":       float32[K, A]              actions t .. t + K - 1 (raw units)
    "events":       float32[K, E]              events of transitions t .. t + K - 1 (NaN: unknown)
    "outcome":      float32[K + 1]             the current subtask completes within the horizon
    "progress":     float32[K + 1]             completed subtasks / chain length
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hivla.world_model.events import EVENT_NAMES


@dataclass
class EpisodeArrays:
    """One episode in memory. ``events[t]`` belongs to transition t (rows past ``N - 2`` unused).

    images: camera -> uint8[N, H, W, 3]; state float32[N, S]; action float32[N, A];
    events float32[N, E] over ``EVENT_NAMES`` (NaN where unknown); progress float32[N];
    success: the episode's outcome; info: seed, suite, shifts, ...
    """

    images: dict[str, np.ndarray]
    state: np.ndarray
    action: np.ndarray
    events: np.ndarray
    progress: np.ndarray
    success: bool
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.state)
        sizes = {k: len(v) for k, v in self.images.items()}
        sizes.update(action=len(self.action), events=len(self.events), progress=len(self.progress))
        bad = {k: v for k, v in sizes.items() if v != n}
        if bad:
            raise ValueError(f"episode arrays must all have N={n} rows (as state), got {bad}")
        if self.events.shape[1:] != (len(EVENT_NAMES),):
            raise ValueError(
                f"events must be float[N, {len(EVENT_NAMES)}] over {EVENT_NAMES}, got {self.events.shape}"
            )

    @property
    def length(self) -> int:
        return len(self.state)

    @property
    def transitions(self) -> int:
        return max(0, self.length - 1)

    def outcome_labels(self, horizon: int) -> np.ndarray:
        """float32[N]: 1 where the subtask current at frame t completes at a step in
        t .. t + horizon - 1 (0 when it never does before the episode ends)."""
        done = np.nan_to_num(self.events[:, EVENT_NAMES.index("subtask_done")]) > 0  # (N,)
        never = np.iinfo(np.int64).max // 2
        next_done = np.full(self.length, never, np.int64)
        upcoming = never
        for t in range(self.length - 1, -1, -1):
            if done[t]:
                upcoming = t
            next_done[t] = upcoming
        return ((next_done - np.arange(self.length)) < horizon).astype(np.float32)

    def resized(self, size: int, cameras: Sequence[str]) -> EpisodeArrays:
        """A copy with only ``cameras``, frames area-resized to ``size`` x ``size`` (uint8)."""
        missing = [c for c in cameras if c not in self.images]
        if missing:
            raise ValueError(f"episode has cameras {sorted(self.images)}, the model needs {missing}")
        images = {c: resize_frames(self.images[c], size) for c in cameras}
        return EpisodeArrays(
            images, self.state, self.action, self.events, self.progress, self.success, dict(self.info)
        )


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8[N, H, W, 3] -> uint8[N, size, size, 3] by area averaging (bilinear when enlarging)."""
    if frames.shape[1:3] == (size, size):
        return frames
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (N, 3, H, W)
    mode = "area" if frames.shape[1] >= size else "bilinear"
    y = F.interpolate(x, size=(size, size), mode=mode)  # (N, 3, s, s)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (N, s, s, 3)


class WindowDataset(torch.utils.data.Dataset):
    """Windows of ``horizon + 1`` frames from in-memory episodes (see the module docstring).

    Episodes must already be at the model's image size (:meth:`EpisodeArrays.resized`).
    ``episode_indices()`` names each sample's episode (for episode-wise train/val splits).
    """

    def __init__(self, episodes: Sequence[EpisodeArrays], horizon: int, outcome_horizon: int) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        self.episodes, self.horizon = list(episodes), horizon
        self._outcome = [e.outcome_labels(outcome_horizon) for e in self.episodes]
        self._images = [
            {c: torch.from_numpy(np.ascontiguousarray(v)).permute(0, 3, 1, 2) for c, v in e.images.items()}
            for e in self.episodes
        ]  # per episode: camera -> (N, 3, s, s) uint8
        index = [(i, t) for i, e in enumerate(self.episodes) for t in range(e.transitions - horizon + 1)]
        if not index:
            lengths = [e.length for e in self.episodes]
            raise ValueError(
                f"no window of {horizon + 1} frames fits in the episodes (lengths {lengths[:8]}); "
                "use longer episodes or a shorter model horizon"
            )
        self._index = np.asarray(index, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self._index)

    def episode_indices(self) -> list[int]:
        return self._index[:, 0].tolist()

    def __getitem__(self, i: int) -> dict[str, Any]:
        ep_i, t = (int(v) for v in self._index[i])
        ep, k = self.episodes[ep_i], self.horizon
        frames = slice(t, t + k + 1)
        item: dict[str, Any] = {f"images.{c}": v[frames] for c, v in self._images[ep_i].items()}
        item["state"] = torch.from_numpy(ep.state[frames])
        item["action"] = torch.from_numpy(ep.action[t : t + k])
        item["events"] = torch.from_numpy(ep.events[t : t + k])
        item["outcome"] = torch.from_numpy(self._outcome[ep_i][frames])
        item["progress"] = torch.from_numpy(ep.progress[frames])
        return item


def event_rates(episodes: Sequence[EpisodeArrays]) -> np.ndarray:
    """float64[E]: the share of known transitions where each event occurs (NaN if never known)."""
    rows = [e.events[: e.transitions] for e in episodes if e.transitions]
    if not rows:
        return np.full(len(EVENT_NAMES), np.nan)
    ev = np.concatenate(rows)  # (T, E)
    known = ~np.isnan(ev)
    with np.errstate(invalid="ignore"):
        return np.where(known.any(0), np.nansum(ev, 0) / np.maximum(known.sum(0), 1), np.nan)
