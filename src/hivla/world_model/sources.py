"""Where world-model transitions come from: simulator rollouts or a dataset directory.

* :func:`collect_episodes` rolls out the fault-injecting expert (:mod:`hivla.world_model.faults`)
  and labels every step with :func:`hivla.world_model.events.step_events` (failed episodes kept:
  a world model must see what goes wrong).
* :func:`write_dataset` stores such episodes in the LeRobot v3 layout (``hivla.data`` writer) with
  one extra column, ``wm.events`` float[E]; :func:`load_episodes` reads any hivla / LeRobot v3
  dataset back. Without ``wm.events`` (e.g. ``hivla collect`` data) only ``subtask_done`` (from
  ``next.reward``) and ``object_out`` (from ``observation.privileged``) are known; other events
  are NaN and their heads are not trained on that data.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from hivla.world_model.config import CollectSpec
from hivla.world_model.data import EpisodeArrays
from hivla.world_model.events import EVENT_NAMES, OUT_XY_HIGH, OUT_XY_LOW, OUT_Z, EventTracker

EVENTS_COLUMN = "wm.events"


def rollout_episode(env: Any, policy: Any, seed: int, max_steps: int | None = None) -> EpisodeArrays:
    """Roll ``policy`` (``start_episode``/``sample_actions``/``reset``; native actions, or universal
    ones when its ``action_space`` says so) out from ``seed``, executing ``policy.execute_steps``
    actions per chunk; the global generators are seeded from ``seed`` first, so a stochastic policy
    replays. Keeps the final observation (its action row is a hold action and its event row zeros)."""
    from hivla.actions.chunking import ChunkBroker
    from hivla.evaluation.agent import seed_everything

    universal_policy = getattr(policy, "action_space", "native") == "universal"
    obs, info = env.reset(seed=seed)
    seed_everything(seed)
    policy.start_episode(env, seed)
    broker = ChunkBroker(policy, int(getattr(policy, "execute_steps", 1)))
    broker.reset()
    tracker = EventTracker()
    tracker.start(env)
    rows: dict[str, list[Any]] = {
        k: [] for k in ("state", "universal", "native", "privileged", "events", "progress", "subtask")
    }
    images: dict[str, list[np.ndarray]] = {c: [] for c in env.cameras}
    limit = max_steps or env.max_steps
    while True:
        for cam in env.cameras:
            images[cam].append(obs["images"][cam])
        rows["state"].append(obs["state"])
        rows["privileged"].append(info["privileged_vector"])
        rows["progress"].append(info["progress"])
        rows["subtask"].append(info["subtask_index"])
        if len(rows["events"]) >= limit:
            break
        action = np.asarray(broker.act(obs), np.float32)
        native = env.from_universal(action) if universal_policy else action
        rows["native"].append(native)
        rows["universal"].append(env.to_universal(native))
        obs, _, terminated, truncated, info = env.step(native)
        rows["events"].append(tracker.step(env))
        if terminated or truncated:
            for cam in env.cameras:
                images[cam].append(obs["images"][cam])
            rows["state"].append(obs["state"])
            rows["privileged"].append(info["privileged_vector"])
            rows["progress"].append(info["progress"])
            rows["subtask"].append(info["subtask_index"])
            break
    n = len(rows["state"])
    hold_u = np.zeros(7, np.float32)
    hold_u[6] = rows["universal"][-1][6] if rows["universal"] else -1.0
    universal = np.stack([*rows["universal"], *[hold_u] * (n - len(rows["universal"]))]).astype(np.float32)
    native = np.stack([env.from_universal(a) for a in universal]).astype(np.float32)
    events = np.zeros((n, len(EVENT_NAMES)), np.float32)
    events[: len(rows["events"])] = np.stack(rows["events"]) if rows["events"] else 0.0
    return EpisodeArrays(
        images={c: np.stack(v) for c, v in images.items()},
        state=np.stack(rows["state"]).astype(np.float32),
        action=universal,
        events=events,
        progress=np.asarray(rows["progress"], np.float32),
        success=bool(info["success"]),
        info={
            "seed": int(seed), "suite": env.suite.name, "embodiment": env.embodiment.name,
            "shifts": dict(env.shifts), "chain_length": int(info["chain_length"]),
            "completed": int(info["completed"]), "instruction": info["instruction"],
            "subtask_kinds": list(info["task_kinds"]),
            "native_action": native, "privileged": np.stack(rows["privileged"]).astype(np.float32),
            "subtask_index": np.asarray(rows["subtask"], np.int64),
            "faults": dict(getattr(policy, "faults", {})),
        },
    )  # fmt: skip


def make_policy(spec: str, fault_rate: float = 0.3, embodiment: str = "floating") -> Any:
    """The policy ``spec`` names: the fault-injecting expert at ``fault_rate`` for ``faulty-expert``,
    else whatever ``hivla.policies.load_rollout_policy`` resolves (checked against ``embodiment``)."""
    from hivla.world_model.config import FAULTY_EXPERT
    from hivla.world_model.faults import FaultConfig, FaultyExpert

    if spec == FAULTY_EXPERT:
        return FaultyExpert(FaultConfig(fault_rate=fault_rate))
    from hivla.policies import check_compatible, load_rollout_policy

    policy = load_rollout_policy(spec)
    check_compatible(policy, embodiment)
    return policy


class _CollectWorker:
    """Per process: one env and the policy of ``spec`` (by default the fault-injecting expert)."""

    def __init__(self, spec: CollectSpec) -> None:
        from hivla.sim import make_env

        self.env = make_env(spec.suite, spec.embodiment, image_size=spec.image_size, shifts=list(spec.shifts))
        self.policy = make_policy(spec.policy, spec.fault_rate, spec.embodiment)

    def __call__(self, seed: int) -> EpisodeArrays:
        return rollout_episode(self.env, self.policy, seed)

    def close(self) -> None:
        self.env.close()


def collect_episodes(spec: CollectSpec, split: str = "train") -> list[EpisodeArrays]:
    """``spec.episodes`` rollouts from the suite's ``split`` seeds (from ``spec.seed_offset``), in seed order."""
    from hivla.evaluation.config import suite_seeds
    from hivla.utils.pool import run_pool

    seeds = suite_seeds(spec.suite, split, spec.seed_offset, spec.episodes)
    episodes = list(run_pool(partial(_CollectWorker, spec), seeds, spec.workers, spec.backend, spec.address))
    return sorted(episodes, key=lambda e: e.info["seed"])


# ---- dataset directories ---------------------------------------------------------------------------
def write_dataset(episodes: list[EpisodeArrays], out: str | Path, spec: CollectSpec) -> Path:
    """Write episodes (without their final observation) in the LeRobot v3 layout; return the root."""
    from hivla.data import format as fmt
    from hivla.data.recorder import feature_names
    from hivla.data.stats import write_stats
    from hivla.data.writer import DatasetWriter, Episode, infer_features
    from hivla.sim import make_env

    if not episodes:
        raise ValueError("write_dataset needs at least one episode")
    env = make_env(spec.suite, spec.embodiment, image_size=spec.image_size, render=False)
    names = {**feature_names(env), EVENTS_COLUMN: list(EVENT_NAMES)}
    env.close()
    writer = None
    for ep in episodes:
        n = ep.transitions  # frames that have an action
        reward = ep.events[:n, EVENT_NAMES.index("subtask_done")]
        done = np.zeros(n, bool)
        done[-1] = True
        frames = {
            fmt.ACTION: ep.info["native_action"][:n],
            fmt.ACTION_UNIVERSAL: ep.action[:n],
            fmt.STATE: ep.state[:n],
            fmt.PRIVILEGED: ep.info["privileged"][:n],
            fmt.SUBTASK_INDEX: ep.info["subtask_index"][:n],
            fmt.EMBODIMENT: [ep.info["embodiment"]] * n,
            fmt.REWARD: reward.astype(np.float32),
            fmt.DONE: done,
            fmt.SUCCESS: done & ep.success,
            EVENTS_COLUMN: ep.events[:n],
        }
        keys = (
            "seed",
            "suite",
            "embodiment",
            "shifts",
            "chain_length",
            "completed",
            "faults",
            "subtask_kinds",
        )
        info = {k: ep.info[k] for k in keys}
        record = Episode(
            frames,
            {c: v[:n] for c, v in ep.images.items()},
            ep.info["instruction"],
            {**info, "success": ep.success},
        )
        if writer is None:
            feats = infer_features(record, names, fps=10)
            writer = DatasetWriter.create(
                out, 10, feats, spec.embodiment, {"world_model_collect": _spec_dict(spec)}
            )
        writer.add_episode(record)
    writer.close()
    write_stats(out)
    return Path(out)


def _spec_dict(spec: CollectSpec) -> dict[str, Any]:
    from dataclasses import asdict

    d = asdict(spec)
    d["shifts"] = list(spec.shifts)
    return d


def _privileged_out(priv: np.ndarray) -> np.ndarray:
    """float32[N]: 1 where an active object inside the workspace at frame t is outside at t + 1."""
    from hivla.sim import catalogue as cat

    n_slots = len(cat.SLOTS)
    per = priv[:, : 8 * n_slots].reshape(len(priv), n_slots, 8)  # (N, slots, [active, xyz, quat])
    active, xyz = per[..., 0] > 0.5, per[..., 1:4]
    inside = active & np.all(xyz[..., :2] >= OUT_XY_LOW, -1) & np.all(xyz[..., :2] <= OUT_XY_HIGH, -1)
    inside &= xyz[..., 2] > OUT_Z  # (N, slots)
    out = np.full(len(priv), np.nan, np.float32)
    out[:-1] = np.any(inside[:-1] & ~inside[1:], axis=1)
    return out


def _episode_info(row: dict[str, Any], cols: dict[str, np.ndarray], sl: slice) -> dict[str, Any]:
    import json

    from hivla.data import format as fmt

    kinds = row.get("hivla/subtask_kinds") or row.get("hivla/task_kinds")
    info: dict[str, Any] = {
        "seed": row.get("hivla/seed"),
        "episode_index": int(row["episode_index"]),
        "instruction": row["tasks"][0] if row.get("tasks") else "",
        "subtask_kinds": json.loads(kinds) if isinstance(kinds, str) else kinds,
    }
    if fmt.SUBTASK_INDEX in cols:
        info["subtask_index"] = np.asarray(cols[fmt.SUBTASK_INDEX][sl], np.int64)
    return info


def load_episodes(
    root: str | Path, action_key: str = "action.universal", max_episodes: int = 0
) -> list[EpisodeArrays]:
    """Every episode of a dataset directory (or the first ``max_episodes``) in memory."""
    from hivla.data import format as fmt
    from hivla.data.dataset import EpisodeFilter
    from hivla.data.errors import DatasetError
    from hivla.data.meta import DatasetMeta
    from hivla.data.reader import FrameTable, VideoCache

    meta = DatasetMeta.load(root)
    rows = EpisodeFilter().select(meta)
    rows = rows[:max_episodes] if max_episodes else rows
    if not rows:
        raise DatasetError(Path(root), "the dataset has no episodes")
    if meta.video_only:
        raise DatasetError(
            Path(root), "holds video only (recorded with `hivla collect --video-only`): a world model is "
            "conditioned on actions and this dataset has none",
            "Record it without --video-only, or use it for latent actions (`hivla latent train`).",
        )  # fmt: skip
    if action_key not in meta.features:
        raise DatasetError(
            Path(root), f"the dataset has no {action_key!r} column; the world model's action_key must be one of "
            f"{[k for k in (fmt.ACTION, fmt.ACTION_UNIVERSAL) if k in meta.features]}",
        )  # fmt: skip
    table = FrameTable(meta, rows)
    videos = VideoCache(meta, max_bytes=1 << 28)
    cols = table.columns
    out = []
    for i, row in enumerate(rows):
        sl = slice(int(table.starts[i]), int(table.starts[i] + table.lengths[i]))
        n = int(table.lengths[i])
        events = np.full((n, len(EVENT_NAMES)), np.nan, np.float32)
        if EVENTS_COLUMN in cols:
            events[:] = np.asarray(cols[EVENTS_COLUMN][sl], np.float32).reshape(n, -1)
        else:
            if fmt.REWARD in cols:
                events[:, EVENT_NAMES.index("subtask_done")] = np.asarray(cols[fmt.REWARD][sl]) > 0
            if fmt.PRIVILEGED in cols:
                events[:, EVENT_NAMES.index("object_out")] = _privileged_out(
                    np.asarray(cols[fmt.PRIVILEGED][sl])
                )
        chain = int(row.get("hivla/chain_length", 1) or 1)
        done = np.nan_to_num(events[:, EVENT_NAMES.index("subtask_done")])
        progress = np.concatenate([[0.0], np.cumsum(done)[:-1]]) / chain
        success = bool(
            row.get("hivla/success", bool(np.asarray(cols.get(fmt.SUCCESS, [False]))[sl][-1:].any()))
        )
        images = {cam: videos.get(row, fmt.image_key(cam)) for cam in meta.cameras}
        out.append(
            EpisodeArrays(
                images=images,
                state=np.asarray(cols[fmt.STATE][sl], np.float32).reshape(n, -1),
                action=np.asarray(cols[action_key][sl], np.float32).reshape(n, -1),
                events=events,
                progress=progress.astype(np.float32),
                success=success,
                info=_episode_info(row, cols, sl),
            )
        )
    return out
