"""On-disk constants of the hivla dataset format (the LeRobot v3 layout plus hivla columns).

See ``docs/dataset_format.md`` for the format column by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CODEBASE_VERSION = "v3.0"
# Our own version on top of the LeRobot layout: bump it when hivla columns or meta change, and
# add a migration (or a clear error) in ``meta.check_versions``.
# 2 (2026-12): LeRobot's own tasks index, info/stats/video keys and per-episode stats; exact odd
# image sizes; short-GOP videos. Format 1 datasets load unchanged (see ``meta.check_versions``).
HIVLA_FORMAT_VERSION = 2
CHUNKS_SIZE = 1000
# LeRobot's file size limits (info.json keys its writer requires when it appends episodes); hivla
# writes one episode per file, far below them.
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200

DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
COLLECT_PATH = "meta/hivla_collect.json"  # hivla only: recorder config, dropped seeds
STAGING_DIR = ".staging"  # hivla only: workers' half-written files; never read by the loader

# Column names (LeRobot naming where LeRobot has one).
ACTION = "action"
ACTION_UNIVERSAL = "action.universal"
STATE = "observation.state"
PRIVILEGED = "observation.privileged"
IMAGE_PREFIX = "observation.images."
# hivla only: where the expert's current target appears in each camera, (u, v, visible) per camera of
# hivla.types.CAMERAS, u/v in -1..1 across the image (a training label, never a policy input).
TARGET_UV = "annotation.target_uv"
# hivla only: the expert's current target as a world point (metres), so that re-rendered episodes can
# project it into moved cameras (a training label, never a policy input).
TARGET_XYZ = "annotation.target_xyz"
# hivla only: the simulator's generalized positions (MuJoCo qpos, float32) at each frame: enough to
# render the frame again under other visuals (`hivla data synthesize`); never a policy input.
SIM_QPOS = "sim.qpos"
# hivla only, with `hivla collect --sensors` (hivla.sim.sensors): per camera, depth in whole millimetres
# (uint16[H, W], lossless to 0.5 mm; 65535 = 65.535 m or farther) and the camera-to-world pose
# (float32[4, 4], OpenCV camera frame; the intrinsics are in the depth feature's info); the touch
# readings float32[10] (newtons, 0/1 flags, newton-metres; names in the feature).
DEPTH_PREFIX = "observation.depth."
CAMERA_POSE_PREFIX = "observation.camera_pose."
CAMERA_INTRINSICS_PREFIX = (
    "observation.camera_intrinsics."  # loader output only (from the depth feature's info)
)
CONTACT = "observation.contact"
DEPTH_SCALE = 0.001  # metres per stored depth unit
DEPTH_MAX_UNITS = 65535
TIMESTAMP, FRAME_INDEX, EPISODE_INDEX, INDEX, TASK_INDEX = (
    "timestamp",
    "frame_index",
    "episode_index",
    "index",
    "task_index",
)
SUBTASK_INDEX, SUBTASK, REASONING, EMBODIMENT = "subtask_index", "subtask", "reasoning", "embodiment"
DONE, SUCCESS, REWARD = "next.done", "next.success", "next.reward"

# Columns every LeRobot v3 dataset has; the loader needs only these (plus action/state).
LEROBOT_INDEX_COLUMNS = (TIMESTAMP, FRAME_INDEX, EPISODE_INDEX, INDEX, TASK_INDEX)


def image_key(camera: str) -> str:
    return f"{IMAGE_PREFIX}{camera}"


def depth_key(camera: str) -> str:
    return f"{DEPTH_PREFIX}{camera}"


def camera_pose_key(camera: str) -> str:
    return f"{CAMERA_POSE_PREFIX}{camera}"


def camera_intrinsics_key(camera: str) -> str:
    return f"{CAMERA_INTRINSICS_PREFIX}{camera}"


def is_depth_geometry(key: str) -> bool:
    """True for the depth and camera-pose columns (``--sensors depth``): what a moved camera invalidates."""
    return key.startswith((DEPTH_PREFIX, CAMERA_POSE_PREFIX))


def depth_to_units(depth_m: np.ndarray) -> np.ndarray:
    """float depth in metres [...] -> uint16 millimetres (rounded; clipped to 0..65.535 m)."""
    units = np.rint(np.asarray(depth_m, np.float64) / DEPTH_SCALE)
    return np.clip(np.nan_to_num(units, nan=DEPTH_MAX_UNITS), 0, DEPTH_MAX_UNITS).astype(np.uint16)


def units_to_depth(units: np.ndarray) -> np.ndarray:
    """uint16 millimetres [...] -> float32 metres."""
    return np.asarray(units, np.float32) * np.float32(DEPTH_SCALE)


def chunk_file(episode_index: int, chunks_size: int = CHUNKS_SIZE) -> tuple[int, int]:
    """hivla writes one episode per file: episode ``e`` lives in chunk ``e // size``, file ``e % size``."""
    return episode_index // chunks_size, episode_index % chunks_size


@dataclass(frozen=True)
class Paths:
    """Resolves the layout's path templates under one dataset root."""

    root: Path

    def data(self, chunk_index: int, file_index: int, template: str = DATA_PATH) -> Path:
        return self.root / template.format(chunk_index=chunk_index, file_index=file_index)

    def video(self, key: str, chunk_index: int, file_index: int, template: str = VIDEO_PATH) -> Path:
        return self.root / template.format(video_key=key, chunk_index=chunk_index, file_index=file_index)

    @property
    def info(self) -> Path:
        return self.root / INFO_PATH

    @property
    def stats(self) -> Path:
        return self.root / STATS_PATH

    @property
    def tasks(self) -> Path:
        return self.root / TASKS_PATH

    @property
    def episodes(self) -> Path:
        return self.root / EPISODES_PATH

    @property
    def collect(self) -> Path:
        return self.root / COLLECT_PATH

    @property
    def staging(self) -> Path:
        return self.root / STAGING_DIR
