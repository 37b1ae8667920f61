"""Torch datasets over a LeRobot-v3-layout directory: action chunks for policies, clips for video models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta
from hivla.data.reader import FrameTable, VideoCache

TEXT_KEYS = (fmt.SUBTASK, fmt.REASONING, fmt.EMBODIMENT)
INDEX_KEYS = (fmt.EPISODE_INDEX, fmt.FRAME_INDEX, fmt.INDEX, fmt.TASK_INDEX, fmt.SUBTASK_INDEX)


@dataclass(frozen=True)
class EpisodeFilter:
    """Which episodes to use: a split by episode plus metadata filters (empty tuple = any).

    split: all | train | val. The split is a seeded permutation of episode indices, so train
        and val never share an episode and stay fixed as long as the seed does.
    """

    split: str = "all"
    val_fraction: float = 0.1
    split_seed: int = 0
    suites: tuple[str, ...] = ()
    embodiments: tuple[str, ...] = ()
    chain_lengths: tuple[int, ...] = ()
    episodes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.split not in ("all", "train", "val"):
            raise ValueError(f"split must be all | train | val, got {self.split!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be within [0, 1), got {self.val_fraction}")

    def select(self, meta: DatasetMeta) -> list[dict[str, Any]]:
        rows = meta.episodes
        if self.episodes:
            wanted = set(self.episodes)
            rows = [e for e in rows if e["episode_index"] in wanted]
        for values, col in (
            (self.suites, "hivla/suite"),
            (self.embodiments, "hivla/embodiment"),
            (self.chain_lengths, "hivla/chain_length"),
        ):
            if not values:
                continue
            if rows and col not in rows[0]:
                raise DatasetError(
                    meta.paths.episodes,
                    f"cannot filter by {col.split('/')[1]}: the episodes table has no {col!r}",
                )
            rows = [e for e in rows if e[col] in values]
        if self.split != "all":
            train, val = split_episodes(
                [e["episode_index"] for e in meta.episodes], self.val_fraction, self.split_seed
            )
            keep = set(train if self.split == "train" else val)
            rows = [e for e in rows if e["episode_index"] in keep]
        return rows


def split_episodes(indices: list[int], val_fraction: float, seed: int = 0) -> tuple[list[int], list[int]]:
    """Split episode indices into (train, val) by a seeded permutation; val gets at least one if possible."""
    idx = np.array(sorted(indices))
    if len(idx) < 2 or val_fraction <= 0:
        return idx.tolist(), []
    n_val = min(len(idx) - 1, max(1, int(round(val_fraction * len(idx)))))
    perm = np.random.default_rng(seed).permutation(len(idx))
    return sorted(idx[perm[n_val:]].tolist()), sorted(idx[perm[:n_val]].tolist())


@dataclass(frozen=True)
class LoaderConfig:
    """What one sample holds.

    n_obs_steps: observation history length T (frames t-T+1..t; before the start, the first frame
        repeats and ``observation_is_pad`` is True).
    horizon: action chunk length H (actions t..t+H-1; past the end the last action repeats and
        ``action_is_pad`` is True).
    action_key: the column used as ``action`` ("action" native or "action.universal").
    state_key: the column used as ``observation.state``.
    cameras: camera names to load (None: all image features, named without ``observation.images.``).
    camera_keys: (camera, feature) pairs naming the dataset feature a camera reads, for datasets
        whose image features are named otherwise (e.g. ``("front", "observation.images.laptop")``);
        a camera not listed reads ``observation.images.<camera>``. Samples always use the camera
        names (``observation.images.front``).
    cache_bytes: decoded-video LRU budget per process. preload: decode everything at open.
    sensors: optional sensor features to load (recorded with ``hivla collect --sensors``):
        ``depth`` gives ``observation.depth.<cam>`` float32[T, 1, H, W] in metres for each loaded
        camera with its ``observation.camera_pose.<cam>`` float32[T, 4, 4] (camera-to-world) and
        ``observation.camera_intrinsics.<cam>`` float32[3, 3]; ``contact`` gives
        ``observation.contact`` float32[T, 10].
    """

    n_obs_steps: int = 1
    horizon: int = 16
    action_key: str = fmt.ACTION
    state_key: str = fmt.STATE
    cameras: tuple[str, ...] | None = None
    camera_keys: tuple[tuple[str, str], ...] = ()
    uint8_images: bool = False
    cache_bytes: int = 1 << 30
    preload: bool = False
    filter: EpisodeFilter = field(default_factory=EpisodeFilter)
    sensors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.n_obs_steps < 1 or self.horizon < 1:
            raise ValueError(f"n_obs_steps and horizon must be >= 1, got {self.n_obs_steps}, {self.horizon}")
        unknown = [s for s in self.sensors if s not in LOADABLE_SENSORS]
        if unknown:
            raise ValueError(f"unknown sensors {unknown} to load; datasets store {list(LOADABLE_SENSORS)}")


LOADABLE_SENSORS = ("depth", "contact")


class _Base(torch.utils.data.Dataset):
    def __init__(
        self, root: str | Path, flt: EpisodeFilter, cameras, cache_bytes: int, keys=None, camera_keys=()
    ) -> None:
        self.root = Path(root)
        self.meta = DatasetMeta.load(self.root)
        self.episodes = flt.select(self.meta)
        if not self.episodes:
            raise DatasetError(self.root, f"no episodes left after selecting {flt}")
        self.camera_features = resolve_cameras(self.meta, cameras, dict(camera_keys))
        self.cameras = list(self.camera_features)
        self.frames = FrameTable(self.meta, self.episodes, keys)
        self.videos = VideoCache(self.meta, cache_bytes)
        self.videos.check_files(self.episodes)
        self._ep_of = np.repeat(np.arange(len(self.episodes)), self.frames.lengths)

    def preload(self) -> None:
        """Decode every selected episode's videos into the cache now (small datasets)."""
        for e in self.episodes:
            for key in self.camera_features.values():
                self.videos.get(e, key)

    def _images(self, ep: int, frames: np.ndarray, uint8: bool) -> dict[str, torch.Tensor]:
        out = {}
        for cam, key in self.camera_features.items():
            video = self.videos.get(self.episodes[ep], key)
            x = torch.from_numpy(np.ascontiguousarray(video[frames])).permute(0, 3, 1, 2)  # (T, 3, H, W)
            out[fmt.image_key(cam)] = x if uint8 else x.float().div_(255.0)
        return out

    def task_text(self, task_index: int) -> str:
        return self.meta.tasks.get(int(task_index), "")


class ChunkDataset(_Base):
    """Samples for policies: an observation history and an action chunk from frame ``t``.

    Keys (unbatched): ``observation.images.<cam>`` float32[T, 3, H, W] in [0, 1] (uint8 if
    ``uint8_images``), ``observation.state`` float32[T, S], ``observation_is_pad`` bool[T],
    ``action`` float32[H, A], ``action_is_pad`` bool[H], ``task`` str, and when present
    ``action.universal`` float32[H, 7], ``observation.privileged`` float32[P] (frame t),
    ``annotation.target_uv`` float32[3 * cameras] (frame t), the sensors asked for
    (:class:`LoaderConfig` ``sensors``), ``subtask``/``reasoning``/``embodiment`` str and the integer index columns.
    """

    def __init__(self, root: str | Path, cfg: LoaderConfig = LoaderConfig()) -> None:
        super().__init__(root, cfg.filter, cfg.cameras, cfg.cache_bytes, camera_keys=cfg.camera_keys)
        self.cfg = cfg
        cols = self.frames.columns
        if self.meta.video_only:
            raise DatasetError(
                self.root,
                "holds video only (recorded with `hivla collect --video-only`): it has no action or state "
                f"columns, and a policy needs {cfg.action_key!r} and {cfg.state_key!r}",
                "Train policies on datasets with actions; use this one for latent actions "
                "(`hivla latent train`, `hivla latent pretrain`).",
            )
        for key in (cfg.action_key, cfg.state_key):
            if key not in cols:
                raise DatasetError(
                    self.root,
                    f"the dataset has no {key!r} column; columns: {sorted(cols)}",
                    "Name the dataset's state/action columns (`hivla train --data-keys state=COL,action=COL`).",
                )
        self._float = {
            k: np.asarray(cols[k], np.float32).reshape(len(self.frames), -1)
            for k in (cfg.action_key, cfg.state_key, fmt.ACTION_UNIVERSAL, fmt.PRIVILEGED, fmt.TARGET_UV)
            if k in cols
        }
        self._intrinsics: dict[str, torch.Tensor] = {}
        self._depth = self._sensor_columns(cfg.sensors)
        if cfg.preload:
            self.preload()

    def _sensor_columns(self, sensors: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The depth columns (uint16 millimetres [N, 1, H, W]) of the loaded cameras; adds contact to
        ``_float``. Raises DatasetError naming how to record a sensor the dataset lacks."""
        cols, depth = self.frames.columns, {}
        wanted = [fmt.depth_key(c) for c in self.cameras] if "depth" in sensors else []
        wanted += [fmt.CONTACT] if "contact" in sensors else []
        missing = [k for k in wanted if k not in cols]
        if missing:
            raise DatasetError(
                self.root,
                f"the loader was asked for sensors {list(sensors)}, but the dataset has no {missing}",
                "Record them (`hivla collect --sensors depth,contact`) or train without them.",
            )
        for key in wanted:
            if key == fmt.CONTACT:
                self._float[key] = np.asarray(cols[key], np.float32).reshape(len(self.frames), -1)
                continue
            h, w = self.meta.features[key]["shape"]
            depth[key] = np.asarray(cols[key]).reshape(len(self.frames), 1, h, w)
            cam = key.removeprefix(fmt.DEPTH_PREFIX)
            pose = fmt.camera_pose_key(cam)
            if pose in cols:  # recorded by hivla collect with the depth
                self._float[pose] = np.asarray(cols[pose], np.float32).reshape(len(self.frames), 4, 4)
            k = self.meta.features[key].get("info", {}).get("camera.intrinsics")
            if k is not None:
                self._intrinsics[fmt.camera_intrinsics_key(cam)] = torch.tensor(k, dtype=torch.float32)
        return depth

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} frames")
        cfg, ep = self.cfg, int(self._ep_of[i])
        start, length = int(self.frames.starts[ep]), int(self.frames.lengths[ep])
        t = i - start
        obs_t = t - cfg.n_obs_steps + 1 + np.arange(cfg.n_obs_steps)  # (T,)
        act_t = t + np.arange(cfg.horizon)  # (H,)
        obs_c, act_c = np.clip(obs_t, 0, length - 1), np.clip(act_t, 0, length - 1)
        item: dict[str, Any] = self._images(ep, obs_c, cfg.uint8_images)
        item[fmt.STATE] = torch.from_numpy(self._float[cfg.state_key][start + obs_c])
        for key, units in self._depth.items():
            item[key] = torch.from_numpy(fmt.units_to_depth(units[start + obs_c]))  # (T, 1, H, W) metres
        for key in (fmt.CONTACT, *(fmt.camera_pose_key(c) for c in self.cameras)):
            if key in self._float:  # (T, 10) touch, (T, 4, 4) camera-to-world
                item[key] = torch.from_numpy(self._float[key][start + obs_c])
        item.update(self._intrinsics)  # (3, 3) per camera with depth
        item["observation_is_pad"] = torch.from_numpy(obs_t < 0)
        item[fmt.ACTION] = torch.from_numpy(self._float[cfg.action_key][start + act_c])
        item["action_is_pad"] = torch.from_numpy(act_t >= length)
        if fmt.ACTION_UNIVERSAL in self._float and cfg.action_key != fmt.ACTION_UNIVERSAL:
            item[fmt.ACTION_UNIVERSAL] = torch.from_numpy(self._float[fmt.ACTION_UNIVERSAL][start + act_c])
        for key in (fmt.PRIVILEGED, fmt.TARGET_UV):
            if key in self._float:
                item[key] = torch.from_numpy(self._float[key][i])
        cols = self.frames.columns
        for key in INDEX_KEYS:
            if key in cols:
                item[key] = torch.tensor(int(cols[key][i]))
        item["task"] = self.task_text(cols[fmt.TASK_INDEX][i])
        for key in TEXT_KEYS:
            if key in cols:
                item[key] = str(cols[key][i])
        return item


def resolve_cameras(meta: DatasetMeta, cameras, mapping: dict[str, str]) -> dict[str, str]:
    """camera name -> the image feature it reads; raises naming what the dataset has instead."""
    by_name = {k.removeprefix(fmt.IMAGE_PREFIX): k for k in meta.camera_keys}
    names = list(cameras) if cameras is not None else list(by_name)
    out = {c: mapping.get(c) or by_name.get(c) or fmt.image_key(c) for c in names}
    unknown = {c: k for c, k in out.items() if k not in meta.camera_keys}
    if unknown:
        raise ValueError(
            f"unknown cameras {sorted(unknown)}: no image feature {sorted(unknown.values())}; the dataset "
            f"has {meta.camera_keys}. Map a camera to one of them, e.g. "
            f"`--data-keys {next(iter(unknown))}={(meta.camera_keys or ['<feature>'])[0]}`, or use fewer "
            "cameras (`hivla train --cameras front`)."
        )
    for c, k in out.items():
        if image_channels(meta.features[k]) != 3:
            raise ValueError(
                f"camera {c!r} reads {k!r}, which is not an RGB image (shape {meta.features[k]['shape']}, "
                "or a depth map); hivla policies read RGB cameras only: map the camera to an RGB feature"
            )
    return out


def image_channels(feature: dict[str, Any]) -> int:
    """Channels of an image feature shaped [H, W, C] or [C, H, W] (per its names); depth maps: 1."""
    if feature.get("info", {}).get("video.is_depth_map"):
        return 1
    shape, names = feature["shape"], feature.get("names") or []
    return int(shape[0] if names and names[0] in ("channel", "channels") else shape[-1])


class VideoClipDataset(_Base):
    """Frames and language without actions (for latent-action and video models).

    Each sample is a clip of ``clip_len`` frames ``stride`` apart inside one episode:
    ``observation.images.<cam>`` float32[clip_len, 3, H, W], ``task`` str, ``subtask`` str (at the
    first frame, when recorded), ``episode_index`` and ``frame_index`` (first frame). With
    ``action_key`` naming a column the dataset has (:attr:`has_actions`), also the actions from the
    first frame up to the last one (excluded), ``action_key`` float32[(clip_len - 1) * stride, A];
    a dataset without the column (video only) gives clips without actions.
    """

    def __init__(
        self,
        root: str | Path,
        clip_len: int = 2,
        stride: int = 1,
        cameras: tuple[str, ...] | None = None,
        filter: EpisodeFilter = EpisodeFilter(),
        cache_bytes: int = 1 << 30,
        uint8_images: bool = False,
        action_key: str = "",
    ) -> None:
        if clip_len < 1 or stride < 1:
            raise ValueError(f"clip_len and stride must be >= 1, got {clip_len}, {stride}")
        super().__init__(root, filter, cameras, cache_bytes)
        self.clip_len, self.stride, self.uint8_images = clip_len, stride, uint8_images
        self.action_key = action_key if action_key in self.frames.columns else ""
        self._actions = (
            np.asarray(self.frames.columns[action_key], np.float32).reshape(len(self.frames), -1)
            if self.action_key
            else None
        )
        span = (clip_len - 1) * stride
        starts = [
            (ep, s) for ep, n in enumerate(self.frames.lengths.tolist()) for s in range(max(0, n - span))
        ]
        self._clips = np.array(starts, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self._clips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ep, s = (int(v) for v in self._clips[i])
        frames = s + self.stride * np.arange(self.clip_len)
        item: dict[str, Any] = self._images(ep, frames, self.uint8_images)
        row = int(self.frames.starts[ep]) + s
        cols = self.frames.columns
        item["task"] = self.task_text(cols[fmt.TASK_INDEX][row])
        if fmt.SUBTASK in cols:
            item["subtask"] = str(cols[fmt.SUBTASK][row])
        item[fmt.EPISODE_INDEX] = torch.tensor(int(self.episodes[ep]["episode_index"]))
        item[fmt.FRAME_INDEX] = torch.tensor(s)
        if self._actions is not None:
            span = (self.clip_len - 1) * self.stride
            item[self.action_key] = torch.from_numpy(self._actions[row : row + span])  # (span, A)
        return item

    def clip_episodes(self) -> np.ndarray:
        """The episode index of every clip, int64[len(self)] (to split clips by episode)."""
        index = np.array([int(e["episode_index"]) for e in self.episodes], dtype=np.int64)
        return index[self._clips[:, 0]]

    @property
    def has_actions(self) -> bool:
        """True when the samples carry ``action_key`` (the dataset has that column)."""
        return self._actions is not None
