"""Frame pairs for the latent action model, from any dataset's video (actions used where present)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hivla.data import DatasetMeta, EpisodeFilter, VideoClipDataset
from hivla.data import format as fmt
from hivla.errors import HivlaError
from hivla.latent_actions.config import LatentActionConfig
from hivla.types import UNIVERSAL_ACTION_DIM


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """images float[N, 3, h, w] -> float[N, 3, size, size] (area average down, bilinear up)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    mode = "area" if images.shape[-1] > size else "bilinear"
    return F.interpolate(
        images, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False})
    )


class LatentWidthError(HivlaError, ValueError):
    """A dataset whose universal actions carry a wheeled base's part (10 values)."""


def _check_universal_width(meta: DatasetMeta, root: str | Path) -> None:
    """The latent action model aligns to the 7 end-effector values: refuse a mobile body's 10."""
    feature = meta.features.get(fmt.ACTION_UNIVERSAL)
    width = int(feature["shape"][0]) if feature else UNIVERSAL_ACTION_DIM
    if width != UNIVERSAL_ACTION_DIM:
        raise LatentWidthError(
            f"dataset {root} records universal actions of {width} values (a body with a wheeled base); the "
            f"latent action model aligns to the {UNIVERSAL_ACTION_DIM} end-effector values of fixed-base "
            "bodies. Pretrain latents on fixed-base data (or video-only data)"
        )


class FramePairDataset(torch.utils.data.Dataset):
    """Pairs (frame t, frame t+k) of one camera of one dataset, resized for the model.

    Samples: ``frames`` float32[2, 3, s, s] in [0, 1], ``action.universal`` float32[k, 7] (zeros
    where the dataset has no actions) with ``has_action`` bool, ``embodiment`` str (the dataset's
    robot type), ``episode_index`` and ``frame_index``.
    """

    def __init__(
        self,
        root: str | Path,
        cfg: LatentActionConfig,
        split: str = "all",
        val_fraction: float = 0.0,
        seed: int = 0,
        max_episodes: int = 0,
        cache_bytes: int = 1 << 30,
    ) -> None:
        meta = DatasetMeta.load(root)
        _check_universal_width(meta, root)
        episodes = tuple(int(e["episode_index"]) for e in meta.episodes)
        chosen = episodes[:max_episodes] if max_episodes else ()
        flt = EpisodeFilter(split=split, val_fraction=val_fraction, split_seed=seed, episodes=chosen)
        self.clips = VideoClipDataset(
            root, clip_len=2, stride=cfg.frame_gap, cameras=(cfg.camera,), filter=flt,
            cache_bytes=cache_bytes, action_key=fmt.ACTION_UNIVERSAL,
        )  # fmt: skip
        self.cfg, self.root = cfg, Path(root)
        self.embodiment = str(meta.info.get("robot_type") or "unknown")

    @property
    def has_actions(self) -> bool:
        return self.clips.has_actions

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = self.clips[i]
        frames = resize(item[fmt.image_key(self.cfg.camera)], self.cfg.image_size)  # (2, 3, s, s)
        actions = item.get(fmt.ACTION_UNIVERSAL)
        has = actions is not None
        if actions is None:
            actions = torch.zeros(self.cfg.frame_gap, UNIVERSAL_ACTION_DIM)
        return {
            "frames": frames,
            fmt.ACTION_UNIVERSAL: actions.float(),
            "has_action": torch.tensor(has),
            "embodiment": self.embodiment,
            "task": item["task"],
            fmt.EPISODE_INDEX: item[fmt.EPISODE_INDEX],
            fmt.FRAME_INDEX: item[fmt.FRAME_INDEX],
        }


def pair_datasets(
    paths: tuple[str, ...] | list[str],
    cfg: LatentActionConfig,
    split: str,
    val_fraction: float,
    seed: int,
    max_episodes: int = 0,
    cache_bytes: int = 1 << 30,
) -> torch.utils.data.ConcatDataset:
    """One :class:`FramePairDataset` per path, read as one (episodes of each split by ``seed``)."""
    parts = [FramePairDataset(p, cfg, split, val_fraction, seed, max_episodes, cache_bytes) for p in paths]
    return torch.utils.data.ConcatDataset(parts)


def sample_indices(n: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct indices in [0, n) (all of them, sorted, when ``count >= n``)."""
    if count >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, count, replace=False))


def episode_groups(data: torch.utils.data.ConcatDataset) -> list[int]:
    """A group id per sample of :func:`pair_datasets` output: (dataset, episode) pairs numbered apart."""
    groups: list[int] = []
    for d, part in enumerate(data.datasets):
        groups += (part.clips.clip_episodes() + d * 10_000_000).tolist()
    return groups
