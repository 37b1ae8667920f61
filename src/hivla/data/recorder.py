"""Record scripted-expert episodes from the simulator into a dataset, in parallel, crash-safely.

Workers are processes, each with its own env: they roll out the expert for the seeds they are
handed, encode the camera videos under ``.staging/`` and send the rest of the episode back. The
main process is the only writer: it commits each successful episode atomically
(:class:`~hivla.data.writer.DatasetWriter`) and counts and drops the episodes the expert failed.
``resume`` continues a killed run from the committed episodes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from hivla.data import format as fmt
from hivla.data.meta import atomic_write_json
from hivla.data.video import VideoConfig, check_encoder, encode_video
from hivla.data.writer import DatasetWriter, Episode, infer_features

# Config fields that must match when resuming (they change what the data means).
_RESUME_KEYS = (
    "suite", "embodiment", "image_size", "shifts", "max_steps", "seed_offset", "action_noise", "source",
)  # fmt: skip
EXPERT_SOURCE = "expert"  # the hivla/source of scripted-expert episodes (older datasets: no column)


@dataclass(frozen=True)
class CollectConfig:
    """What to record. ``episodes`` counts successful (kept) episodes.

    ``action_noise``: top speed (metres per step) of occasional pushes added to the hand translation
    the robot executes (:class:`PushAside`), while the dataset keeps the expert's clean action for
    every state it visits (in the spirit of DART, Laskey et al. 2017): the data then shows how to
    come back from a few centimetres off the expert's path, which a cloned policy needs in closed
    loop. 0: none.

    ``source``: where the episodes come from, stored per episode (``hivla/source``): ``expert``
    for the scripted expert, e.g. ``dagger-1`` for a relabelled round. ``keep_failed``: commit the
    episodes whose task failed too (relabelled rollouts teach from every visited state).
    """

    out: Path
    suite: str = "tabletop-single"
    embodiment: str = "floating"
    episodes: int = 10
    workers: int = 1
    shifts: tuple[str, ...] = ()
    image_size: int = 128
    resume: bool = False
    max_steps: int | None = None
    seed_offset: int = 0
    max_failures: int = 100
    video: VideoConfig = field(default_factory=VideoConfig)
    stats: bool = True
    action_noise: float = 0.0
    source: str = EXPERT_SOURCE
    keep_failed: bool = False

    def __post_init__(self) -> None:
        from hivla.sim import check_embodiment, is_external, parse_shifts

        check_embodiment(self.suite, self.embodiment)
        parse_shifts(list(self.shifts))
        if self.shifts and is_external(self.suite):
            raise ValueError(f"suite {self.suite} is an external benchmark and takes no shifts; drop --shift")
        if self.action_noise > 0 and is_external(self.suite):
            raise ValueError(
                f"action_noise needs the built-in suites' universal hand pushes; drop it for {self.suite}"
            )
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes} and {self.workers}")
        if not 64 <= self.image_size <= 224:
            raise ValueError(f"image_size must be within 64..224 px, got {self.image_size}")
        if self.max_failures < 0:
            raise ValueError(f"max_failures must be >= 0, got {self.max_failures}")
        if not 0.0 <= self.action_noise <= 0.05:
            raise ValueError(f"action_noise is metres per step within 0..0.05, got {self.action_noise}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {self.max_steps}")
        check_encoder(self.video.codec)
        if not self.source or not self.source.replace("-", "").replace("_", "").isalnum():
            raise ValueError(
                f"source must be a short name of letters, digits, '-' or '_', got {self.source!r}"
            )

    def resume_key(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in _RESUME_KEYS}
        d["shifts"] = sorted(d["shifts"])
        return d

    def make_env(self):
        from hivla.sim import make_env

        return make_env(
            self.suite, self.embodiment, image_size=self.image_size, shifts=list(self.shifts),
            max_steps=self.max_steps,
        )  # fmt: skip


class PushAside:
    """Perturbations of the executed hand translation (universal dims 0-2), seeded per episode: now
    and then (probability ``rate`` per step) the hand is pushed for 2-5 steps at up to ``scale``
    metres per step in a random direction, then the expert brings it back on its own. The pushes
    move the hand a few centimetres off the expert's path; between them the execution is clean."""

    def __init__(self, scale: float, seed: int, rate: float = 0.12) -> None:
        self.scale, self.rate = scale, rate
        self.rng = np.random.default_rng([seed, 4242])
        self.left, self.velocity = 0, np.zeros(3)

    def perturb(self, env, action: np.ndarray) -> np.ndarray:
        """The native action to execute: ``action`` plus the current push (if any)."""
        if self.left == 0 and self.rng.random() < self.rate:
            direction = self.rng.normal(size=3) * (1.0, 1.0, 0.5)  # mostly sideways
            speed = self.rng.uniform(0.4, 1.0) * self.scale
            self.velocity = direction / np.linalg.norm(direction) * speed
            self.left = int(self.rng.integers(2, 6))
        if self.left == 0:
            return action
        self.left -= 1
        universal = np.array(env.to_universal(action), np.float32)
        universal[:3] += self.velocity.astype(np.float32)
        return env.from_universal(universal)


class EpisodeBuilder:
    """The frames of one episode as it is rolled out: ``add`` the observation, the labelled action
    (what the dataset teaches) and its annotation before each step, ``stepped`` after it, then
    ``build``. Frame t holds the observation before action t; the final observation is not stored."""

    def __init__(self, env, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self.env, self.first = env, info
        self.cols: dict[str, list] = {k: [] for k in _FRAME_COLUMNS}
        self.images: dict[str, list] = {c: [] for c in obs["images"]}

    def add(self, obs: dict[str, Any], info: dict[str, Any], action: np.ndarray, note: Any) -> None:
        env, cols = self.env, self.cols
        for cam, img in obs["images"].items():
            self.images[cam].append(img)
        cols[fmt.ACTION].append(np.asarray(action, np.float32))
        cols[fmt.ACTION_UNIVERSAL].append(np.asarray(env.to_universal(action), np.float32))
        cols[fmt.STATE].append(np.asarray(obs["state"], np.float32))
        cols[fmt.PRIVILEGED].append(np.asarray(info["privileged_vector"], np.float32))
        cols[fmt.TARGET_UV].append(env.project(np.asarray(note.position)).ravel())
        cols[fmt.TARGET_XYZ].append(np.asarray(note.position, np.float32))
        cols[fmt.SIM_QPOS].append(np.asarray(env.data.qpos, np.float32))
        cols[fmt.SUBTASK_INDEX].append(int(info["subtask_index"]))
        cols[fmt.SUBTASK].append(note.subtask)
        cols[fmt.REASONING].append(note.text())
        cols[fmt.EMBODIMENT].append(env.embodiment.name)

    def stepped(self, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]) -> None:
        self.cols[fmt.REWARD].append(float(reward))
        self.cols[fmt.DONE].append(bool(terminated or truncated))
        self.cols[fmt.SUCCESS].append(bool(info["success"]))

    @property
    def length(self) -> int:
        return len(self.cols[fmt.REWARD])

    def build(self, seed: int, last: dict[str, Any], **extra: Any) -> Episode:
        """The episode; ``last`` is the info after the final step, ``extra`` more episode metadata."""
        frames = {k: (np.stack(v) if k in _VECTOR_COLUMNS else v) for k, v in self.cols.items()}
        frames[fmt.SUBTASK_INDEX] = np.asarray(frames[fmt.SUBTASK_INDEX], np.int64)
        frames[fmt.REWARD] = np.asarray(frames[fmt.REWARD], np.float32)
        frames[fmt.DONE] = np.asarray(frames[fmt.DONE], bool)
        frames[fmt.SUCCESS] = np.asarray(frames[fmt.SUCCESS], bool)
        first, env = self.first, self.env
        ep_info = {
            "seed": int(seed),
            "suite": env.suite.name,
            "suite_version": env.suite.version,
            "embodiment": env.embodiment.name,
            "chain_length": int(first["chain_length"]),
            "subtasks": list(first["subtasks"]),
            "task_kinds": list(first["task_kinds"]),
            "shifts": dict(first["shifts"]),
            "success": bool(last["success"]),
            "completed": int(last["completed"]),
            **extra,
        }
        images = {c: np.stack(v) for c, v in self.images.items()}
        return Episode(frames, images, first["instruction"], ep_info)


def record_episode(
    env, seed: int, action_noise: float = 0.0, source: str = EXPERT_SOURCE
) -> tuple[Episode, bool]:
    """Roll out the scripted expert from ``seed``; return the episode (image arrays) and success.

    With ``action_noise`` the robot executes a perturbed action (:class:`PushAside`) and the
    frame records the expert's clean one. ``source`` names where the episode came from (the
    episodes table's ``hivla/source`` column).
    """
    from hivla.sim import ScriptedExpert

    obs, info = env.reset(seed=seed)
    expert = ScriptedExpert(env)
    expert.reset()
    episode = EpisodeBuilder(env, obs, info)
    noise = PushAside(action_noise, seed) if action_noise > 0 else None
    while True:
        action, note = expert.act(obs, info)
        episode.add(obs, info, action, note)
        executed = noise.perturb(env, action) if noise is not None else action
        obs, reward, terminated, truncated, info = env.step(executed)
        episode.stepped(reward, terminated, truncated, info)
        if terminated or truncated:
            break
    return episode.build(seed, info, source=source), bool(info["success"])


def record_external_episode(env, seed: int, source: str = EXPERT_SOURCE) -> tuple[Episode, bool]:
    """Roll out an external suite's scripted policy from ``seed`` (``env.scripted_action()``).

    The frames hold what an external benchmark has: native and (where the robot maps to it)
    universal actions, proprioception, the benchmark's low-dimensional state as the privileged
    vector, the task as the one subtask; no target labels and no simulator qpos.
    """
    obs, info = env.reset(seed=seed)
    universal = env.embodiment.has_universal
    cols: dict[str, list] = {k: [] for k in _external_columns(universal)}
    images: dict[str, list] = {c: [] for c in obs["images"]}
    while True:
        action = env.scripted_action()
        for cam, img in obs["images"].items():
            images[cam].append(img)
        cols[fmt.ACTION].append(np.asarray(action, np.float32))
        if universal:
            cols[fmt.ACTION_UNIVERSAL].append(env.to_universal(action))
        cols[fmt.STATE].append(np.asarray(obs["state"], np.float32))
        cols[fmt.PRIVILEGED].append(np.asarray(info["privileged_vector"], np.float32))
        cols[fmt.SUBTASK_INDEX].append(0)
        cols[fmt.SUBTASK].append(info["subtasks"][0])
        cols[fmt.EMBODIMENT].append(env.embodiment.name)
        obs, reward, terminated, truncated, info = env.step(action)
        cols[fmt.REWARD].append(float(reward))
        cols[fmt.DONE].append(bool(terminated or truncated))
        cols[fmt.SUCCESS].append(bool(info["success"]))
        if terminated or truncated:
            break
    frames: dict[str, Any] = {k: (np.stack(v) if k in _VECTOR_COLUMNS else v) for k, v in cols.items()}
    frames[fmt.SUBTASK_INDEX] = np.asarray(frames[fmt.SUBTASK_INDEX], np.int64)
    frames[fmt.REWARD] = np.asarray(frames[fmt.REWARD], np.float32)
    frames[fmt.DONE] = np.asarray(frames[fmt.DONE], bool)
    frames[fmt.SUCCESS] = np.asarray(frames[fmt.SUCCESS], bool)
    ep_info = {
        "seed": int(seed), "suite": env.suite.name, "suite_version": env.suite.version,
        "embodiment": env.embodiment.name, "chain_length": 1, "subtasks": list(info["subtasks"]),
        "task_kinds": list(info["task_kinds"]), "shifts": {}, "success": bool(info["success"]),
        "completed": int(info["completed"]), "source": source,
    }  # fmt: skip
    episode = Episode(frames, {c: np.stack(v) for c, v in images.items()}, info["instruction"], ep_info)
    return episode, bool(info["success"])


def _external_columns(universal: bool) -> tuple[str, ...]:
    head = (fmt.ACTION, fmt.ACTION_UNIVERSAL) if universal else (fmt.ACTION,)
    return (*head, fmt.STATE, fmt.PRIVILEGED, fmt.SUBTASK_INDEX, fmt.SUBTASK, fmt.EMBODIMENT,
            fmt.REWARD, fmt.DONE, fmt.SUCCESS)  # fmt: skip


_VECTOR_COLUMNS = (
    fmt.ACTION, fmt.ACTION_UNIVERSAL, fmt.STATE, fmt.PRIVILEGED, fmt.TARGET_UV, fmt.TARGET_XYZ, fmt.SIM_QPOS,
)  # fmt: skip
_FRAME_COLUMNS = (
    *_VECTOR_COLUMNS, fmt.SUBTASK_INDEX, fmt.SUBTASK, fmt.REASONING, fmt.EMBODIMENT,
    fmt.REWARD, fmt.DONE, fmt.SUCCESS,
)  # fmt: skip


def feature_names(env) -> dict[str, list[str]]:
    from hivla.sim.adapters.env import ExternalEnv
    from hivla.types import CAMERAS, UNIVERSAL_ACTION_NAMES

    emb = env.embodiment
    if isinstance(env, ExternalEnv):
        return {fmt.ACTION: list(emb.action_names), fmt.ACTION_UNIVERSAL: list(UNIVERSAL_ACTION_NAMES),
                fmt.STATE: list(emb.state_names)}  # fmt: skip
    return {
        fmt.ACTION: list(emb.action_names),
        fmt.ACTION_UNIVERSAL: list(UNIVERSAL_ACTION_NAMES),
        fmt.STATE: list(emb.state_names),
        fmt.TARGET_UV: [f"{cam}.{axis}" for cam in CAMERAS for axis in ("u", "v", "visible")],
        fmt.TARGET_XYZ: ["x", "y", "z"],
        fmt.SIM_QPOS: qpos_names(env.model),
    }


def qpos_names(model) -> list[str]:
    """One name per MuJoCo qpos entry: ``joint`` for 1-dof joints, ``joint.x`` ... ``joint.qz`` for free ones."""
    import mujoco

    suffix = {
        int(mujoco.mjtJoint.mjJNT_FREE): (".x", ".y", ".z", ".qw", ".qx", ".qy", ".qz"),
        int(mujoco.mjtJoint.mjJNT_BALL): (".qw", ".qx", ".qy", ".qz"),
    }
    names = []
    for j in range(model.njnt):
        name = model.joint(j).name or f"joint{j}"
        names += [name + s for s in suffix.get(int(model.jnt_type[j]), ("",))]
    return names


# ---- workers -------------------------------------------------------------------------------------
class _ParentGone(Exception):
    pass


EpisodeRecorder = Callable[[int], tuple[Episode, bool]]  # seed -> (episode with image arrays, success)


def expert_recorder(cfg: CollectConfig, env) -> EpisodeRecorder:
    """The default recorder of :func:`collect`: the scripted expert (:func:`record_episode`), or an
    external suite's own scripted policy (:func:`record_external_episode`)."""
    from hivla.sim.adapters.env import ExternalEnv

    if isinstance(env, ExternalEnv):
        return partial(record_external_episode, env, source=cfg.source)
    return partial(record_episode, env, action_noise=cfg.action_noise, source=cfg.source)


def _run_seed(cfg: CollectConfig, record: EpisodeRecorder, env, seed: int, staging: Path) -> dict[str, Any]:
    """Record one seed; for a kept episode, encode its videos under ``staging`` and return paths."""
    ep, ok = record(seed)
    if not (ok or cfg.keep_failed):
        return {"seed": seed, "ok": False, "steps": ep.length}
    features = infer_features(ep, feature_names(env), cfg.video, env.fps)
    staged = {}
    for cam, frames in ep.images.items():
        path = staging / f"{os.getpid()}-{seed}-{cam}.mp4"
        staged[cam] = encode_video(frames, path, env.fps, cfg.video, pad_odd=False)
    ep.images = staged
    return {"seed": seed, "ok": True, "episode": ep, "features": features, "fps": env.fps}


def _worker(cfg: CollectConfig, make_recorder, staging: Path, tasks, results, parent: int) -> None:
    from hivla.utils.threads import limit_threads

    limit_threads(1)
    env = cfg.make_env()
    record = make_recorder(cfg, env)
    try:
        while os.getppid() == parent:  # a killed parent leaves no orphan recording forever
            try:
                seed = tasks.get(timeout=1.0)
            except queue_mod.Empty:
                continue
            if seed is None:
                return
            results.put(_run_seed(cfg, record, env, seed, staging))
    finally:
        env.close()


class _Pool:
    """K worker processes fed seeds through a queue; results come back in completion order."""

    def __init__(self, cfg: CollectConfig, staging: Path, make_recorder) -> None:
        ctx = mp.get_context("spawn")
        self.tasks, self.results = ctx.Queue(), ctx.Queue()
        self.procs = [
            ctx.Process(
                target=_worker,
                args=(cfg, make_recorder, staging, self.tasks, self.results, os.getpid()),
                daemon=True,
            )
            for _ in range(cfg.workers)
        ]
        for p in self.procs:
            p.start()

    def submit(self, seed: int) -> None:
        self.tasks.put(seed)

    def get(self) -> dict[str, Any]:
        while True:
            try:
                return self.results.get(timeout=1.0)
            except queue_mod.Empty:
                dead = [p for p in self.procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"collect worker exited with code {dead[0].exitcode}") from None

    def close(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()


class _Inline:
    """The one-worker case: record in this process (no spawn cost)."""

    def __init__(self, cfg: CollectConfig, staging: Path, make_recorder) -> None:
        self.cfg, self.staging, self.env, self.pending = cfg, staging, cfg.make_env(), []
        self.record = make_recorder(cfg, self.env)

    def submit(self, seed: int) -> None:
        self.pending.append(seed)

    def get(self) -> dict[str, Any]:
        return _run_seed(self.cfg, self.record, self.env, self.pending.pop(0), self.staging)

    def close(self) -> None:
        self.env.close()


# ---- main loop -----------------------------------------------------------------------------------
def collect(
    cfg: CollectConfig,
    on_progress: Callable[[int, int], None] | None = None,
    make_recorder: Callable[[CollectConfig, Any], EpisodeRecorder] = expert_recorder,
) -> dict[str, Any]:
    """Record until ``cfg.episodes`` episodes are committed (successful ones, unless
    ``cfg.keep_failed``); return a summary.

    ``on_progress(kept, dropped)`` is called after every finished episode. ``make_recorder(cfg, env)``
    builds, once per worker process, what rolls out a seed (picklable: a module-level function or a
    ``functools.partial`` of one); the default records the scripted expert.
    """
    from hivla.sim import get_suite

    root = Path(cfg.out)
    paths = fmt.Paths(root)
    state = _open_run(cfg, paths)
    writer = DatasetWriter.resume(root) if paths.info.is_file() else None
    kept0 = writer.n_episodes if writer else 0
    done_seeds = set(state["dropped_seeds"])
    if writer:
        done_seeds |= {int(e["hivla/seed"]) for e in writer.meta.episodes}
    pool_seeds = get_suite(cfg.suite).train_seeds[cfg.seed_offset :]
    seeds = (s for s in pool_seeds if s not in done_seeds)
    staging = paths.staging
    staging.mkdir(parents=True, exist_ok=True)
    runner = (_Pool if cfg.workers > 1 else _Inline)(cfg, staging, make_recorder)
    in_flight, kept, failed = 0, kept0, 0
    try:
        while True:
            while kept + in_flight < cfg.episodes and in_flight < 2 * cfg.workers:
                seed = next(seeds, None)
                if seed is None:
                    raise RuntimeError(f"suite {cfg.suite} ran out of training seeds after {kept} episodes")
                runner.submit(seed)
                in_flight += 1
            if in_flight == 0:
                break
            res = runner.get()
            in_flight -= 1
            if not res["ok"]:
                state["dropped_seeds"].append(res["seed"])
                atomic_write_json(paths.collect, state)
                failed += 1
                if failed > cfg.max_failures:
                    raise RuntimeError(
                        f"the expert failed {failed} episodes in this run (max_failures={cfg.max_failures}); "
                        f"{kept} are committed. Check the suite, shifts and max_steps, or raise max_failures."
                    )
            else:
                if writer is None:
                    hivla_info = {"collect": cfg.resume_key(), "image_size": cfg.image_size}
                    writer = DatasetWriter.create(
                        root, res["fps"], res["features"], cfg.embodiment, hivla_info, cfg.video
                    )
                writer.add_episode(res["episode"])
                kept += 1
            if on_progress:
                on_progress(kept, len(state["dropped_seeds"]))
    finally:
        runner.close()
        if writer is not None:
            writer.close()
    if cfg.stats:
        from hivla.data.stats import write_stats

        write_stats(root)
    return {
        "out": str(root),
        "episodes": kept,
        "new_episodes": kept - kept0,
        "frames": writer.meta.total_frames,
        "dropped": len(state["dropped_seeds"]),
        "dropped_seeds": list(state["dropped_seeds"]),
    }


def _open_run(cfg: CollectConfig, paths: fmt.Paths) -> dict[str, Any]:
    """Create (or, with resume, check and reopen) ``meta/hivla_collect.json``."""
    key = cfg.resume_key()
    if paths.collect.is_file() or paths.info.is_file():
        if not cfg.resume:
            raise FileExistsError(
                f"{paths.root} already holds a dataset; pass --resume to continue it or choose another --out"
            )
        import json

        state = json.loads(paths.collect.read_text()) if paths.collect.is_file() else None
        if (
            state is None or {"action_noise": 0.0, "source": EXPERT_SOURCE, **state.get("config", {})} != key
        ):  # older: fewer keys
            raise ValueError(
                f"cannot resume {paths.root}: it was recorded with {state and state.get('config')}, "
                f"but this run asks for {key}; use the same suite, embodiment, image size, shifts, action noise, source"
            )
        return state
    state = {"config": key, "dropped_seeds": [], "video": asdict(cfg.video)}
    atomic_write_json(paths.collect, state)
    return state
