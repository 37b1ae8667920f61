"""Training data plumbing: a synthetic dataset, collation, a resumable sharded batch order, and
what the processor is fitted on.

Every dataset here returns samples in the ``hivla.types`` naming (one frame per sample, no batch
dim): ``observation.images.<cam>`` float[T, 3, H, W] in [0, 1], ``observation.state`` float[T, S],
``action`` float[H, A], ``action_is_pad`` bool[H], ``task`` str, and optionally
``action.universal`` float[H, 7] and ``embodiment`` str.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hivla.types import CAMERAS, UNIVERSAL_ACTION_DIM

_COLOURS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.1, 0.2, 0.9)}


def embodiment_dims(name: str) -> tuple[int, int]:
    """(state_dim, action_dim) of a registered sim embodiment, without building an env."""
    from hivla.sim import embodiment_info

    emb = embodiment_info(name)
    return emb.state_dim, emb.action_dim


@dataclass(frozen=True)
class SyntheticSpec:
    """Sizes of :class:`SyntheticVLADataset`."""

    size: int = 256
    image_size: int = 32
    horizon: int = 4
    cameras: tuple[str, ...] = ("front", "wrist")
    embodiments: tuple[str, ...] = ("floating",)
    seed: int = 0


class SyntheticVLADataset(torch.utils.data.Dataset):
    """SYNTHETIC frames that a policy can learn: the action chunk depends on the colour of a
    square drawn in the front image, on the instruction's colour word and on the state.
    ``annotation.target_uv`` says where the square is in each image (the localization label).

    Deterministic per index. Not robot data: for tests and speed benchmarks before (or without)
    a recorded dataset.
    """

    def __init__(self, spec: SyntheticSpec = SyntheticSpec()) -> None:
        self.spec = spec
        self.dims = {e: embodiment_dims(e) for e in spec.embodiments}

    def __len__(self) -> int:
        return self.spec.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        spec = self.spec
        if not 0 <= index < spec.size:
            raise IndexError(f"index {index} out of range for {spec.size} synthetic frames")
        rng = np.random.default_rng([spec.seed, index])
        emb = spec.embodiments[index % len(spec.embodiments)]
        state_dim, action_dim = self.dims[emb]
        colour = list(_COLOURS)[int(rng.integers(len(_COLOURS)))]
        size = spec.image_size
        sample: dict[str, Any] = {}
        target_uv = np.zeros((len(CAMERAS), 3), np.float32)  # where the square is: (u, v, visible)
        for cam in spec.cameras:
            img = np.full((3, size, size), 0.3, np.float32)
            x, y = rng.integers(0, size - size // 4, 2)
            img[:, y : y + size // 4, x : x + size // 4] = np.asarray(_COLOURS[colour], np.float32)[
                :, None, None
            ]
            sample[f"observation.images.{cam}"] = torch.from_numpy(img[None])  # (1, 3, H, W)
            centre = (np.array([x, y]) + (size // 4) / 2.0) * (2.0 / size) - 1.0
            target_uv[CAMERAS.index(cam)] = (*centre, 1.0)
        state = rng.normal(0.0, 1.0, state_dim).astype(np.float32)
        sample["observation.state"] = torch.from_numpy(state[None])  # (1, S)
        direction = {"red": 1.0, "green": -1.0, "blue": 0.0}[colour]
        t = np.linspace(0.0, 1.0, spec.horizon, dtype=np.float32)[:, None]  # (H, 1)
        universal = np.zeros((spec.horizon, UNIVERSAL_ACTION_DIM), np.float32)
        universal[:, 0] = 0.02 * direction * (1.0 - t[:, 0])
        universal[:, 1] = 0.01 * np.tanh(state[0])
        universal[:, 6] = 1.0 if direction > 0 else -1.0
        native = np.zeros((spec.horizon, action_dim), np.float32)
        native[:, : min(action_dim, 3)] = universal[:, : min(action_dim, 3)]
        native[:, -1] = universal[:, 6]
        pad = np.zeros(spec.horizon, bool)
        pad[spec.horizon - int(rng.integers(0, 2)) :] = True  # some chunks run past an episode end
        sample.update(
            {
                "action": torch.from_numpy(native),
                "action.universal": torch.from_numpy(universal),
                "action_is_pad": torch.from_numpy(pad),
                "task": f"push the {colour} cube",
                "subtask": f"push the {colour} cube",
                "reasoning": synthetic_reasoning(colour, int(x), int(y), direction),
                "embodiment": emb,
                "annotation.target_uv": torch.from_numpy(target_uv.ravel()),
            }
        )
        return sample

    def fit_arrays(self, action_key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(states per embodiment float[N, S], chunks per embodiment float[N, H, A]) for fitting."""
        return arrays_by_iteration(self, action_key, range(len(self)))


def arrays_by_iteration(
    dataset: Any, action_key: str, indices: Sequence[int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Fallback for :func:`fit_arrays`: read each sample (slow if it decodes video)."""
    states: dict[str, list[np.ndarray]] = {}
    chunks: dict[str, list[np.ndarray]] = {}
    for i in indices:
        s = dataset[int(i)]
        emb = str(s.get("embodiment", "default"))
        state = np.asarray(s["observation.state"], np.float32)
        states.setdefault(emb, []).append(state.reshape(-1, state.shape[-1])[-1])
        chunks.setdefault(emb, []).append(np.asarray(s[action_key], np.float32))
    return {k: np.stack(v) for k, v in states.items()}, {k: np.stack(v) for k, v in chunks.items()}


def fit_arrays(
    dataset: Any, action_key: str, indices: Sequence[int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """States and action chunks per embodiment over ``indices`` (the dataset's fast path if it has one)."""
    if hasattr(dataset, "fit_arrays") and len(indices) == len(dataset):
        return dataset.fit_arrays(action_key)
    return arrays_by_iteration(dataset, action_key, indices)


class RowsDataset(torch.utils.data.Dataset):
    """Named columns of equal length (tensors with the row first, or lists) as a dataset whose
    sample ``i`` is ``{name: column[i]}``; None columns are left out."""

    def __init__(self, **columns: Any) -> None:
        self.columns = {k: v for k, v in columns.items() if v is not None}
        sizes = {k: len(v) for k, v in self.columns.items()}
        if not sizes or len(set(sizes.values())) != 1:
            raise ValueError(f"RowsDataset needs columns of one length, got {sizes}")
        self.size = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {k: v[index] for k, v in self.columns.items()}


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors along a new batch dim; strings become lists."""
    out: dict[str, Any] = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if isinstance(values[0], torch.Tensor):
            out[key] = torch.stack(pad_last(values))
        elif isinstance(values[0], np.ndarray):
            out[key] = torch.from_numpy(np.stack(values))
        elif isinstance(values[0], int | float | bool | np.number) and not isinstance(values[0], str):
            out[key] = torch.tensor(values)
        else:
            out[key] = [v if isinstance(v, str) else str(v) for v in values]
    return out


def pad_last(values: list[torch.Tensor]) -> list[torch.Tensor]:
    """Zero-pad the last dim to the longest (states of different embodiments in one batch)."""
    sizes = {tuple(v.shape) for v in values}
    if len(sizes) == 1 or any(v.ndim == 0 for v in values):
        return values
    width = max(v.shape[-1] for v in values)
    return [torch.nn.functional.pad(v, (0, width - v.shape[-1])) for v in values]


class StepBatchSampler(torch.utils.data.Sampler[list[int]]):
    """An endless, resumable batch order: step s uses slice s of epoch permutation e (seeded by
    ``seed + e``); each rank takes every ``world``-th index of the global batch.

    Resuming at ``start_step`` reproduces the uninterrupted order exactly.
    """

    def __init__(
        self,
        indices: Sequence[int],
        global_batch: int,
        seed: int,
        start_step: int = 0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if global_batch % world:
            raise ValueError(f"batch_size {global_batch} must be divisible by the {world} processes")
        if len(indices) < global_batch:
            raise ValueError(
                f"{len(indices)} training samples are fewer than one batch of {global_batch}: "
                "lower batch_size or use more data"
            )
        self.indices = np.asarray(indices, dtype=np.int64)
        self.global_batch, self.seed, self.start_step = global_batch, seed, start_step
        self.rank, self.world = rank, world
        self.per_epoch = len(self.indices) // global_batch

    def batch_at(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.per_epoch)
        gen = torch.Generator().manual_seed(self.seed + epoch)
        perm = self.indices[torch.randperm(len(self.indices), generator=gen).numpy()]
        chunk = perm[k * self.global_batch : (k + 1) * self.global_batch]
        return chunk[self.rank :: self.world].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch_at(step)
            step += 1


def split_indices(
    n: int, val_fraction: float, seed: int, groups: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """(train, val) indices. With ``groups`` (e.g. episode index per sample) whole groups go to val."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if groups is None:
        groups = list(range(n))
    unique = np.unique(np.asarray(groups))
    n_val = int(round(len(unique) * val_fraction))
    if val_fraction > 0 and len(unique) > 1:
        n_val = max(1, n_val)
    val_groups = set(rng.permutation(unique)[:n_val].tolist())
    val = [i for i in range(n) if groups[i] in val_groups]
    train = [i for i in range(n) if groups[i] not in val_groups]
    return train, val


def synthetic_reasoning(colour: str, x: int, y: int, direction: float) -> str:
    """A reasoning string in the expert's layout for a synthetic frame (the cube's pixel position as
    its offset, the push direction as the motion)."""
    from hivla.types import describe_motion, describe_offset

    rel = describe_offset(np.array([x, -y, -5], np.float64) / 100.0)
    move = describe_motion(np.array([direction, 0.0, 0.0]), "push")
    return f"subtask: push the {colour} cube; target: {colour} cube is {rel}; move: {move}; gripper: open"
