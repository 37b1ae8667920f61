"""Data synthesis by re-rendering: every recorded episode rendered again under sampled looks.

The recorder stores the simulator's positions at every frame (``sim.qpos``) and the expert's target
as a world point (``annotation.target_xyz``). :func:`synthesize` lays each episode out again from its
seed, loads the recorded positions frame by frame and renders them under visual variations drawn
from the training pools of :mod:`hivla.sim.variations` (lighting, table, object colours, camera
jitter, look-only distractors). The new episodes keep every recorded column (actions, states,
subtasks, reasoning, rewards) and only get new pixels and the target's new place in the moved
camera (``annotation.target_uv``); no expert time is spent. Each new episode names its origin
(``hivla/synth_of``: the source episode index, ``hivla/synth_variation``, ``hivla/synth_look``: the
variation as JSON).

Workers render and encode (one simulator each); the main process is the only writer, committing
each episode atomically, so ``resume`` continues a killed run.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta
from hivla.data.reader import FrameTable
from hivla.data.video import DEFAULT_VIDEO, VideoConfig, encode_video
from hivla.data.writer import DatasetWriter, Episode

BUTTON_COLUMN = -3  # observation.privileged: [... per slot, drawer, button pressed, zone x, zone y]
_REQUIRED = (fmt.SIM_QPOS, fmt.TARGET_XYZ, fmt.PRIVILEGED, fmt.TARGET_UV)


@dataclass(frozen=True)
class SynthesizeConfig:
    """Re-render ``source`` into ``out``: ``variations`` new looks of each of its episodes (the first
    ``episodes`` of them, or all), drawn with ``seed``; ``distractors`` adds look-only objects."""

    source: Path
    out: Path
    variations: int = 2
    workers: int = 1
    seed: int = 0
    episodes: int | None = None
    distractors: bool = True
    resume: bool = False

    def __post_init__(self) -> None:
        if self.variations < 1 or self.workers < 1:
            raise ValueError(f"variations and workers must be >= 1, got {self.variations} and {self.workers}")
        if self.episodes is not None and self.episodes < 1:
            raise ValueError(f"episodes must be >= 1 or None (all), got {self.episodes}")
        if Path(self.source).resolve() == Path(self.out).resolve():
            raise ValueError(f"--out must be a new directory, not the source dataset {self.source}")

    def key(self) -> dict[str, Any]:
        """What must match to resume: the settings that decide the new episodes."""
        return {"source": str(Path(self.source).resolve()), "variations": self.variations, "seed": self.seed,
                "distractors": self.distractors}  # fmt: skip


@dataclass(frozen=True)
class _Job:
    """One (episode, variation) to render: everything a worker needs, no dataset access."""

    episode: int
    variation: int
    seed: int
    suite: str
    embodiment: str
    shifts: dict[str, int]
    image_size: int
    cameras: tuple[str, ...]
    instruction: str
    qpos: np.ndarray  # float32[T, nq]
    pressed: np.ndarray  # bool[T]
    target_xyz: np.ndarray  # float32[T, 3]
    look_seed: tuple[int, int, int]
    distractors: bool


def synthesize(
    cfg: SynthesizeConfig, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Write the re-rendered episodes; ``on_progress(done, total)`` after each. Returns a summary."""
    import time

    src = DatasetMeta.load(cfg.source)
    episodes = src.episodes[: cfg.episodes] if cfg.episodes else list(src.episodes)
    _check_source(src, episodes)
    table = FrameTable(src, episodes)
    writer, done = _open_out(cfg, src)
    jobs = [_job(cfg, src, table, i, e, k) for i, e in enumerate(episodes) for k in range(cfg.variations)]
    jobs = [j for j in jobs if (j.episode, j.variation) not in done]
    total, finished, started = len(episodes) * cfg.variations, len(done), time.monotonic()
    staging = writer.meta.paths.staging
    staging.mkdir(parents=True, exist_ok=True)
    video = writer.video
    try:
        for result in _run(jobs, cfg.workers, staging, video, src.fps):
            writer.add_episode(_episode(src, table, episodes, result))
            finished += 1
            if on_progress:
                on_progress(finished, total)
    finally:
        writer.close()
    from hivla.data.stats import write_stats

    write_stats(cfg.out)
    seconds = time.monotonic() - started
    return {
        "out": str(cfg.out), "episodes": writer.n_episodes, "new_episodes": len(jobs),
        "frames": writer.meta.total_frames, "seconds": seconds,
        "seconds_per_episode": seconds / max(len(jobs), 1), "bytes": _size(Path(cfg.out)),
    }  # fmt: skip


def _check_source(src: DatasetMeta, episodes: list[dict[str, Any]]) -> None:
    missing = [k for k in _REQUIRED if k not in src.features]
    if missing:
        raise DatasetError(
            src.paths.info,
            f"cannot re-render: the dataset has no {missing} columns (the simulator positions and the "
            "target point, which `hivla collect` records since hivla format 2 with sim.qpos)",
            "Record the episodes again with `hivla collect` (or `hivla dagger`), then synthesize from that dataset.",
        )
    for e in episodes:
        for key in ("hivla/seed", "hivla/suite", "hivla/embodiment"):
            if key not in e:
                raise DatasetError(
                    src.paths.episodes, f"episode {e['episode_index']} has no {key!r}: not recorded by hivla"
                )


def _open_out(cfg: SynthesizeConfig, src: DatasetMeta) -> tuple[DatasetWriter, set[tuple[int, int]]]:
    out = fmt.Paths(Path(cfg.out))
    if out.info.is_file():
        if not cfg.resume:
            raise FileExistsError(
                f"{cfg.out} already holds a dataset; pass --resume to continue it or choose another --out"
            )
        writer = DatasetWriter.resume(cfg.out)
        recorded = writer.meta.info.get("hivla", {}).get("synthesize")
        if recorded != cfg.key():
            raise ValueError(
                f"cannot resume {cfg.out}: it was synthesized with {recorded}, this run asks for {cfg.key()}"
            )
        done = {(int(e["hivla/synth_of"]), int(e["hivla/synth_variation"])) for e in writer.meta.episodes}
        return writer, done
    hivla = {k: v for k, v in src.info.get("hivla", {}).items() if k not in ("writer", "video")}
    hivla["synthesize"] = cfg.key()
    video = (
        VideoConfig.from_dict(src.info["hivla"]["video"])
        if "video" in src.info.get("hivla", {})
        else DEFAULT_VIDEO
    )
    # Re-rendered looks may move the cameras: the recorded depth and camera poses would be stale.
    features = {k: v for k, v in src.features.items() if not fmt.is_depth_geometry(k)}
    return DatasetWriter.create(cfg.out, src.fps, features, src.info.get("robot_type"), hivla, video), set()


def _job(
    cfg: SynthesizeConfig, src: DatasetMeta, table: FrameTable, i: int, e: dict[str, Any], k: int
) -> _Job:
    rows = slice(int(table.starts[i]), int(table.starts[i] + table.lengths[i]))
    shifts = e.get("hivla/shifts") or "{}"
    return _Job(
        episode=int(e["episode_index"]), variation=k, seed=int(e["hivla/seed"]), suite=str(e["hivla/suite"]),
        embodiment=str(e["hivla/embodiment"]), shifts=json.loads(shifts) if isinstance(shifts, str) else dict(shifts),
        image_size=int(src.info.get("hivla", {}).get("image_size") or src.features[src.camera_keys[0]]["shape"][0]),
        cameras=tuple(src.cameras), instruction=str(e["tasks"][0]),
        qpos=table.columns[fmt.SIM_QPOS][rows], pressed=table.columns[fmt.PRIVILEGED][rows, BUTTON_COLUMN] > 0.5,
        target_xyz=table.columns[fmt.TARGET_XYZ][rows], look_seed=(cfg.seed, int(e["episode_index"]), k),
        distractors=cfg.distractors,
    )  # fmt: skip


def _episode(
    src: DatasetMeta, table: FrameTable, episodes: list[dict[str, Any]], result: dict[str, Any]
) -> Episode:
    """The source episode's columns with the new target_uv, the new videos and its origin."""
    i = next(n for n, e in enumerate(episodes) if int(e["episode_index"]) == result["episode"])
    e = episodes[i]
    rows = slice(int(table.starts[i]), int(table.starts[i] + table.lengths[i]))
    skip = (*fmt.LEROBOT_INDEX_COLUMNS,)
    frames = {k: v[rows] for k, v in table.columns.items() if k not in skip and not fmt.is_depth_geometry(k)}
    frames = {k: (list(v) if v.dtype == object else v) for k, v in frames.items()}
    frames[fmt.TARGET_UV] = result["target_uv"]
    info = {
        k.removeprefix("hivla/"): v
        for k, v in e.items()
        if k.startswith("hivla/") and k != "hivla/task_indices"
    }
    info.update(
        synth_of=result["episode"], synth_variation=result["variation"], synth_look=json.dumps(result["look"])
    )
    return Episode(frames, result["videos"], str(e["tasks"][0]), info)


# ---- workers -------------------------------------------------------------------------------------
_RENDERERS: dict[tuple, Any] = {}


def _render_job(job: _Job, staging: Path, video: VideoConfig, fps: int) -> dict[str, Any]:
    """Render one (episode, variation) and encode its videos under ``staging``."""
    from hivla.sim import make_env
    from hivla.sim.variations import EpisodeRenderer, sample_variation

    key = (job.suite, job.embodiment, json.dumps(job.shifts, sort_keys=True), job.image_size, job.cameras)
    if key not in _RENDERERS:
        env = make_env(
            job.suite, job.embodiment, image_size=job.image_size, shifts=job.shifts, cameras=job.cameras
        )
        _RENDERERS[key] = EpisodeRenderer(env)
    renderer = _RENDERERS[key]
    renderer.load(job.seed, job.instruction)
    rng = np.random.default_rng(list(job.look_seed))
    look = sample_variation(rng, renderer.active, renderer.busy_xy(job.qpos), job.distractors)
    images, target_uv = renderer.render(look, job.qpos, job.pressed, job.target_xyz)
    videos = {}
    for cam, frames in images.items():
        path = staging / f"{os.getpid()}-{job.episode}-{job.variation}-{cam}.mp4"
        videos[cam] = encode_video(frames, path, fps, video, pad_odd=False)
    return {"episode": job.episode, "variation": job.variation, "videos": videos, "target_uv": target_uv,
            "look": look.to_dict()}  # fmt: skip


def _init_worker() -> None:
    from hivla.utils.threads import limit_threads

    limit_threads(1)


def _run(jobs: list[_Job], workers: int, staging: Path, video: VideoConfig, fps: int):
    """Results in job order (one process inline, else a spawn pool)."""
    if workers == 1:
        for job in jobs:
            yield _render_job(job, staging, video, fps)
        return
    from functools import partial

    with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(partial(_render_job, staging=staging, video=video, fps=fps), jobs, chunksize=1)


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
