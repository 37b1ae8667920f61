"""Record scripted-expert episodes from the simulator into a dataset, in parallel, crash-safely.

Workers (this process, worker processes or Ray tasks: :mod:`hivla.utils.pool`), each with its own
env, roll out the expert for the seeds they are handed and send the episode back with its camera
videos encoded (MP4 bytes, so that a worker on another machine needs no shared disk). The main
process is the only writer: it stages the videos under ``.staging/``, commits each successful
episode atomically (:class:`~hivla.data.writer.DatasetWriter`) and counts and drops the episodes the
expert failed. ``resume`` continues a killed run from the committed episodes.
"""

from __future__ import annotations

import collections
import shutil
import tempfile
import uuid
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
from hivla.utils.pool import open_pool

# Config fields that must match when resuming (they change what the data means).
_RESUME_KEYS = (
    "suite", "embodiment", "image_size", "shifts", "max_steps", "seed_offset", "action_noise", "source",
    "video_only", "sensors",
)  # fmt: skip
WINDOW = 4  # seeds submitted and not yet committed, per worker (finished ones wait for earlier seeds)
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

    ``workers``: episodes recorded at once; ``backend`` ``local`` (processes) or ``ray`` (tasks on
    the Ray cluster at ``address``; see :mod:`hivla.utils.pool`).

    ``video_only``: record what a camera sees and nothing a robot knows, as videos of people are:
    the cameras, the instruction and its language annotations, the rewards and flags; the columns
    of :data:`ROBOT_COLUMNS` (actions, state, privileged and simulator annotations) are absent, not
    zero, and ``meta/info.json`` says ``hivla.video_only`` (loaders that need actions refuse it).

    ``sensors``: the env's optional sensors to record (:mod:`hivla.sim.sensors`): ``depth`` stores
    per camera ``observation.depth.<cam>`` (uint16 millimetres, lossless to 0.5 mm) and
    ``observation.camera_pose.<cam>`` (camera-to-world float32[4, 4], the intrinsics in the depth
    feature's info, so point clouds can be rebuilt); ``contact`` stores ``observation.contact``
    float32[10]. ``points`` is not stored: it follows from depth and the camera parameters.
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
    video_only: bool = False
    backend: str = "local"
    address: str | None = None
    sensors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from hivla.sim import check_embodiment, is_external, parse_sensors, parse_shifts
        from hivla.sim.sensors import SensorError
        from hivla.utils.pool import check_backend

        sensors = parse_sensors(self.sensors)
        if "points" in sensors:
            raise SensorError(
                "sensors: points are not stored (they follow from depth and the recorded camera parameters, "
                "hivla.sim.camera_geometry.depth_to_points); record --sensors depth instead"
            )
        if sensors and is_external(self.suite):
            raise SensorError(
                f"suite {self.suite} is an external benchmark and has no hivla sensors; drop --sensors"
            )
        object.__setattr__(self, "sensors", sensors)

        check_backend(self.backend, self.address)
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
        d["sensors"] = list(d["sensors"])
        return d

    def make_env(self):
        from hivla.sim import make_env

        return make_env(
            self.suite, self.embodiment, image_size=self.image_size, shifts=list(self.shifts),
            max_steps=self.max_steps, **({"sensors": self.sensors} if self.sensors else {}),
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
        self.sensor_columns = tuple(sensor_frame(obs))
        self.cols.update({k: [] for k in self.sensor_columns})

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
        for key, value in sensor_frame(obs).items():
            cols[key].append(value)

    def stepped(self, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]) -> None:
        self.cols[fmt.REWARD].append(float(reward))
        self.cols[fmt.DONE].append(bool(terminated or truncated))
        self.cols[fmt.SUCCESS].append(bool(info["success"]))

    @property
    def length(self) -> int:
        return len(self.cols[fmt.REWARD])

    def build(self, seed: int, last: dict[str, Any], **extra: Any) -> Episode:
        """The episode; ``last`` is the info after the final step, ``extra`` more episode metadata."""
        stacked = (*_VECTOR_COLUMNS, *self.sensor_columns)
        frames = {k: (np.stack(v) if k in stacked else v) for k, v in self.cols.items()}
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


def sensor_frame(obs: dict[str, Any]) -> dict[str, np.ndarray]:
    """The dataset columns of one observation's optional sensors (empty without them): depth as
    uint16 millimetres and the camera pose per camera, the contact readings."""
    out: dict[str, np.ndarray] = {}
    for cam, depth in obs.get("depth", {}).items():
        out[fmt.depth_key(cam)] = fmt.depth_to_units(depth)
        out[fmt.camera_pose_key(cam)] = np.asarray(obs["camera_params"][cam]["extrinsics"], np.float32)
    if "contact" in obs:
        out[fmt.CONTACT] = np.asarray(obs["contact"], np.float32)
    return out


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
# What a video of a person would not show: absent from ``video_only`` datasets.
ROBOT_COLUMNS = (
    fmt.ACTION, fmt.ACTION_UNIVERSAL, fmt.STATE, fmt.PRIVILEGED, fmt.TARGET_UV, fmt.TARGET_XYZ, fmt.SIM_QPOS,
    fmt.CONTACT,
)  # fmt: skip
_FRAME_COLUMNS = (
    *_VECTOR_COLUMNS, fmt.SUBTASK_INDEX, fmt.SUBTASK, fmt.REASONING, fmt.EMBODIMENT,
    fmt.REWARD, fmt.DONE, fmt.SUCCESS,
)  # fmt: skip


def feature_names(env) -> dict[str, list[str]]:
    from hivla.sim import CONTACT_NAMES
    from hivla.sim.adapters.env import ExternalEnv
    from hivla.types import CAMERAS, UNIVERSAL_ACTION_NAMES

    emb = env.embodiment
    if isinstance(env, ExternalEnv):
        return {fmt.ACTION: list(emb.action_names), fmt.ACTION_UNIVERSAL: list(UNIVERSAL_ACTION_NAMES),
                fmt.STATE: list(emb.state_names)}  # fmt: skip
    return {
        fmt.ACTION: list(emb.action_names),
        fmt.ACTION_UNIVERSAL: list(emb.universal_names),  # 7 values; 10 with a wheeled base
        fmt.STATE: list(emb.state_names),
        fmt.TARGET_UV: [f"{cam}.{axis}" for cam in CAMERAS for axis in ("u", "v", "visible")],
        fmt.TARGET_XYZ: ["x", "y", "z"],
        fmt.SIM_QPOS: qpos_names(env.model),
        fmt.CONTACT: list(CONTACT_NAMES),
        **{fmt.depth_key(cam): ["height", "width"] for cam in env.cameras},
        **{fmt.camera_pose_key(cam): ["row", "column"] for cam in env.cameras},
    }


def sensor_feature_info(env, features: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``features`` with the depth features' ``info``: unit, scale and the camera's intrinsics."""
    out = dict(features)
    params = env.camera_params() if any(k.startswith(fmt.DEPTH_PREFIX) for k in features) else {}
    for cam, p in params.items():
        key = fmt.depth_key(cam)
        if key in out:
            info = {"depth.unit": "mm", "depth.scale": fmt.DEPTH_SCALE, "depth.max": fmt.DEPTH_MAX_UNITS,
                    "camera.intrinsics": np.asarray(p["intrinsics"]).tolist(),
                    "camera.convention": "opencv (x right, y down, z forward); pose: camera-to-world"}  # fmt: skip
            out[key] = {**out[key], "info": info}
    return out


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
EpisodeRecorder = Callable[[int], tuple[Episode, bool]]  # seed -> (episode with image arrays, success)


def expert_recorder(cfg: CollectConfig, env) -> EpisodeRecorder:
    """The default recorder of :func:`collect`: the scripted expert (:func:`record_episode`), or an
    external suite's own scripted policy (:func:`record_external_episode`)."""
    from hivla.sim.adapters.env import ExternalEnv

    if isinstance(env, ExternalEnv):
        return partial(record_external_episode, env, source=cfg.source)
    return partial(record_episode, env, action_noise=cfg.action_noise, source=cfg.source)


class SeedWorker:
    """Per worker: one env and its recorder. ``worker(seed)`` records the seed and returns
    ``{"seed", "ok", "steps"}``, plus for a kept episode the episode with its camera videos as MP4
    bytes, its features and fps."""

    def __init__(self, cfg: CollectConfig, make_recorder) -> None:
        self.cfg, self.env = cfg, cfg.make_env()
        self.record = make_recorder(cfg, self.env)
        self.scratch = Path(tempfile.mkdtemp(prefix="hivla-collect-"))

    def __call__(self, seed: int) -> dict[str, Any]:
        cfg, env = self.cfg, self.env
        ep, ok = self.record(seed)
        if not (ok or cfg.keep_failed):
            return {"seed": seed, "ok": False, "steps": ep.length}
        if cfg.video_only:
            ep.frames = {k: v for k, v in ep.frames.items() if k not in ROBOT_COLUMNS}
        features = infer_features(ep, feature_names(env), cfg.video, env.fps)
        if cfg.sensors:
            features = sensor_feature_info(env, features)
        videos = {}
        for cam, frames in ep.images.items():
            path = encode_video(frames, self.scratch / f"{seed}-{cam}.mp4", env.fps, cfg.video, pad_odd=False)
            videos[cam] = path.read_bytes()
            path.unlink()
        ep.images = videos
        return {
            "seed": seed,
            "ok": True,
            "steps": ep.length,
            "episode": ep,
            "features": features,
            "fps": env.fps,
        }

    def close(self) -> None:
        self.env.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _stage_videos(ep: Episode, staging: Path) -> None:
    """Write the episode's MP4 bytes under ``staging`` (the dataset's filesystem) for the writer to move."""
    staging.mkdir(parents=True, exist_ok=True)
    for cam, data in list(ep.images.items()):
        path = staging / f"{uuid.uuid4().hex}-{cam}.mp4"
        path.write_bytes(data)
        ep.images[cam] = path


# ---- main loop -----------------------------------------------------------------------------------
def collect(
    cfg: CollectConfig,
    on_progress: Callable[[int, int], None] | None = None,
    make_recorder: Callable[[CollectConfig, Any], EpisodeRecorder] = expert_recorder,
) -> dict[str, Any]:
    """Record until ``cfg.episodes`` episodes are committed (successful ones, unless
    ``cfg.keep_failed``); return a summary.

    Episodes are committed in seed order (a finished episode waits for the earlier seeds), so the
    dataset is the same whatever the backend and worker count. ``on_progress(kept, dropped)`` is
    called after every committed or dropped episode. ``make_recorder(cfg, env)``
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
    runner = open_pool(partial(SeedWorker, cfg, make_recorder), cfg.workers, cfg.backend, cfg.address)
    order: collections.deque[int] = collections.deque()  # submitted seeds not yet committed, in order
    finished: dict[int, dict[str, Any]] = {}
    kept, failed = kept0, 0
    try:
        while True:
            while kept + len(order) < cfg.episodes and len(order) < WINDOW * cfg.workers:
                seed = next(seeds, None)
                if seed is None:
                    raise RuntimeError(f"suite {cfg.suite} ran out of training seeds after {kept} episodes")
                runner.submit(seed)
                order.append(seed)
            if not order:
                break
            res = runner.next()
            finished[res["seed"]] = res
            while order and order[0] in finished:  # in seed order: one dataset for every backend
                res = finished.pop(order.popleft())
                if res["ok"]:
                    writer = _commit(writer, res, cfg, paths)
                    kept += 1
                else:
                    state["dropped_seeds"].append(res["seed"])
                    atomic_write_json(paths.collect, state)
                    failed += 1
                    if failed > cfg.max_failures:
                        raise RuntimeError(
                            f"the expert failed {failed} episodes in this run (max_failures={cfg.max_failures}); "
                            f"{kept} are committed. Check the suite, shifts and max_steps, or raise max_failures."
                        )
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


def _commit(
    writer: DatasetWriter | None, res: dict[str, Any], cfg: CollectConfig, paths: fmt.Paths
) -> DatasetWriter:
    """Stage the episode's videos and commit it (creating the dataset on the first); return the writer."""
    if writer is None:
        hivla_info = {"collect": cfg.resume_key(), "image_size": cfg.image_size}
        if cfg.video_only:
            hivla_info["video_only"] = True
        writer = DatasetWriter.create(
            paths.root, res["fps"], res["features"], cfg.embodiment, hivla_info, cfg.video
        )
    _stage_videos(res["episode"], paths.staging)
    writer.add_episode(res["episode"])
    return writer


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
            state is None
            or {
                "action_noise": 0.0,
                "source": EXPERT_SOURCE,
                "video_only": False,
                "sensors": [],
                **state.get("config", {}),
            }
            != key
        ):  # older: fewer keys
            raise ValueError(
                f"cannot resume {paths.root}: it was recorded with {state and state.get('config')}, "
                f"but this run asks for {key}; use the same suite, embodiment, image size, shifts, action noise, source, --video-only and --sensors"
            )
        return state
    state = {"config": key, "dropped_seeds": [], "video": asdict(cfg.video)}
    atomic_write_json(paths.collect, state)
    return state
