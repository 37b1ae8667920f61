"""The evaluation runner: episodes of one policy over a suite's seeds and shift conditions.

``evaluate(cfg)`` resolves and checks the policy, runs every (condition, seed) episode in worker
processes or Ray tasks (``hivla.utils.pool``; each worker with its own simulators and its own copy
of the policy), attributes failures,
keeps a few rollout videos, and aggregates the metrics. Each episode depends only on its seed:
the env resets from it, the global RNGs are seeded with it, and the policy is told it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from hivla.evaluation.agent import Agent, Execution
from hivla.evaluation.config import DEFAULT_IMAGE_SIZE, EvalConfig, Interjection
from hivla.evaluation.failures import FailureTracker, StepFacts
from hivla.evaluation.metrics import compute_metrics
from hivla.evaluation.overlay import Caption, compose_frame, mark_target
from hivla.evaluation.results import EpisodeRecord, EvalResults, run_info
from hivla.policies import (
    RolloutPolicy,
    as_rollout_policy,
    check_compatible,
    interject_method,
    load_rollout_policy,
)
from hivla.reporting.video import mp4_bytes
from hivla.utils.pool import run_pool

OUTCOME_HOLD_FRAMES = 10  # the last frame, with the outcome banner, is shown this many times

Frame = tuple[np.ndarray, Caption]  # camera panel uint8[H, W * cameras, 3] and its caption


def _facts(env: Any, info: dict[str, Any], initially_done: list[bool]) -> StepFacts:
    done = info["completed"]
    subtasks = env.spec.subtasks
    later = any(
        not initially_done[j] and env.subtask_done(subtasks[j]) for j in range(done + 1, len(subtasks))
    )
    return StepFacts(completed=done, grasped=info["privileged"]["grasped"], out_of_order=later)


def _panel(env: Any, obs: dict[str, Any], policy: RolloutPolicy) -> np.ndarray:
    """The cameras side by side, each marked where the policy located its target (if it says)."""
    looking = policy.looking_at or {}
    images = [
        mark_target(obs["images"][c], *looking[c]) if c in looking else obs["images"][c] for c in env.cameras
    ]
    return np.concatenate(images, axis=1)  # (H, W * cameras, 3)


def _caption(
    env: Any, info: dict[str, Any], policy: RolloutPolicy, outcome: str | None = None, said: str | None = None
) -> Caption:
    n = info["chain_length"]
    index = info["subtask_index"]
    return Caption(
        instruction=info["instruction"],
        subtask=f"{min(info['completed'] + 1, n)}/{n}: {info['subtasks'][index]}",
        step=info["step"],
        max_steps=env.max_steps,
        reasoning=policy.reasoning,
        plan=policy.plan_subtask,
        outcome=outcome,
        interjection=said,
    )


class _Interjections:
    """Delivers the interjections due at each step and records them with the plan before and after."""

    def __init__(self, schedule: Sequence[Interjection]) -> None:
        self.pending = sorted(schedule, key=lambda i: i.step)
        self.events: list[dict[str, Any]] = []

    @property
    def latest(self) -> str | None:
        return self.events[-1]["text"] if self.events else None

    def deliver(self, agent: Agent, step: int) -> None:
        """Before the policy acts at ``step``."""
        while self.pending and self.pending[0].step <= step:
            item = self.pending.pop(0)
            before = agent.policy.plan_subtasks
            agent.interject(item.text)
            self.events.append({"step": step, "text": item.text, "delivered": True, "plan_before": before})

    def after_act(self, agent: Agent) -> None:
        """Once the policy acted on an interjection: its new plan, and whether the plan changed."""
        for event in self.events:
            if "plan_after" not in event:
                event["plan_after"] = agent.policy.plan_subtasks
                event["plan_changed"] = event["plan_after"] != event["plan_before"]

    def record(self) -> list[dict[str, Any]]:
        """Every interjection: the delivered ones, then those the episode ended before."""
        missed = [{"step": i.step, "text": i.text, "delivered": False} for i in self.pending]
        return self.events + missed


def run_episode(
    env: Any,
    agent: Agent,
    seed: int,
    condition: str = "none",
    record: bool = False,
    interjections: Sequence[Interjection] = (),
) -> tuple[EpisodeRecord, list[Frame]]:
    """Roll out one episode from ``seed``; frames (panel, caption) only when ``record``.

    ``interjections`` are given to the policy before it acts at their step; the env's task
    predicate still judges success (the record keeps each interjection and the plan it caused).
    """
    obs, info = env.reset(seed=seed)
    agent.start(seed)
    initially_done = [env.subtask_done(s) for s in env.spec.subtasks]
    tracker = FailureTracker(env.spec.subtasks)
    tracker.observe(_facts(env, info, initially_done))
    said = _Interjections(interjections)
    frames: list[Frame] = []
    while True:
        said.deliver(agent, info["step"])
        action = agent.act(obs)
        said.after_act(agent)
        if record:
            frames.append(
                (_panel(env, obs, agent.policy), _caption(env, info, agent.policy, said=said.latest))
            )
        if agent.stopped:
            break
        obs, _, terminated, truncated, info = env.step(action)
        tracker.observe(_facts(env, info, initially_done))
        if terminated or truncated:
            break
    failure = tracker.attribute(info["success"], safety_stop=agent.stopped)
    if record:
        last = (
            _panel(env, obs, agent.policy),
            _caption(env, info, agent.policy, failure or "success", said.latest),
        )
        frames.extend([last] * OUTCOME_HOLD_FRAMES)
    failed = tracker.failed_subtask
    result = EpisodeRecord(
        condition=condition,
        seed=int(seed),
        instruction=info["instruction"],
        subtasks=list(info["subtasks"]),
        task_kinds=list(info["task_kinds"]),
        chain_length=info["chain_length"],
        completed=info["completed"],
        success=bool(info["success"]),
        progress=float(info["progress"]),
        steps=info["step"],
        failure=failure,
        failed_subtask=failed.text if failure and failed is not None else None,
        safety_stop=agent.stopped,
        interventions=agent.interventions,
        queries=len(agent.query_ms),
        interjections=said.record(),
        step_ms=list(agent.step_ms),
        query_ms=list(agent.query_ms),
    )
    return result, frames


class EpisodeWorker:
    """Per process: the policy, one env (and action stack) per shift condition, video bookkeeping."""

    def __init__(self, cfg: EvalConfig, image_size: int, policy: RolloutPolicy | None = None) -> None:
        self.cfg = cfg
        self.image_size = image_size
        self.policy = policy if policy is not None else load_rollout_policy(cfg.policy)
        self.execution = Execution(
            execute_steps=cfg.execute_steps or self.policy.execute_steps,
            ensemble=cfg.ensemble,
            estop_after_nonfinite=cfg.estop_after_nonfinite,
        )
        self._stacks: dict[str, tuple[Any, Agent]] = {}
        self._kept: Counter[str] = Counter()

    def _stack(self, label: str, shifts: dict[str, int]) -> tuple[Any, Agent]:
        if label not in self._stacks:
            from hivla.sim import make_env

            env = make_env(
                self.cfg.suite, self.cfg.embodiment, image_size=self.image_size, shifts=shifts,
                render=self.policy.needs_images or self.cfg.videos > 0, max_steps=self.cfg.max_steps,
                **({"sensors": self.policy.sensors} if self.policy.sensors else {}),
            )  # fmt: skip
            self._stacks[label] = (env, Agent(self.policy, env, self.execution))
        return self._stacks[label]

    def _want_video(self, record: EpisodeRecord) -> bool:
        """Keep the first successes and failures, and the first failure of each category."""
        if record.success:
            return self._kept["success"] < self.cfg.videos
        return self._kept["failure"] < self.cfg.videos or self._kept[record.outcome] == 0

    def __call__(self, item: tuple[str, dict[str, int], int]) -> EpisodeRecord:
        label, shifts, seed = item
        env, agent = self._stack(label, shifts)
        record, frames = run_episode(
            env, agent, seed, label, self.cfg.videos > 0, self.cfg.interjection_schedule()
        )
        if frames and self._want_video(record):
            record.video = mp4_bytes([compose_frame(p, c) for p, c in frames], fps=env.fps)
            self._kept[record.outcome] += 1
            self._kept["success" if record.success else "failure"] += 1
        return record

    def close(self) -> None:
        for env, _ in self._stacks.values():
            env.close()
        self._stacks.clear()


def select_videos(records: list[EpisodeRecord], per_outcome: int) -> None:
    """Keep at most ``per_outcome`` success and failure videos (failures of distinct categories first)."""
    successes = [r for r in records if r.video is not None and r.success]
    failures = [r for r in records if r.video is not None and not r.success]
    first_of_category = {}
    for r in failures:
        first_of_category.setdefault(r.outcome, r)
    ranked = list(first_of_category.values()) + [r for r in failures if first_of_category[r.outcome] is not r]
    keep = {id(r) for r in successes[:per_outcome] + ranked[:per_outcome]}
    for r in records:
        if id(r) not in keep:
            r.video = None


def _env_image_size(policy_size: int | None) -> int:
    """The policy's training size within the env's 64..224 px (the policy's processor resizes)."""
    return DEFAULT_IMAGE_SIZE if policy_size is None else min(224, max(64, policy_size))


class SuccessTally:
    """A ``progress`` callback for :func:`evaluate` that moves a progress display (anything with
    ``update(done, **fields)``, e.g. ``hivla.utils.progress.JobProgress``) and shows the successes
    so far as ``success W/N``."""

    def __init__(self, progress: Any) -> None:
        self.progress, self.done, self.wins = progress, 0, 0

    def __call__(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.wins += bool(record.success)
        self.progress.update(self.done, success=f"{self.wins}/{self.done}")


def evaluate(
    cfg: EvalConfig, policy: Any = None, progress: Callable[[EpisodeRecord], None] | None = None
) -> EvalResults:
    """Evaluate ``cfg.policy`` (or the given policy object, in this process) and return the results.

    Raises ``ActionSpaceError`` before any rollout if the policy cannot drive ``cfg.embodiment``,
    and ``InterjectionError`` if ``cfg.interjections`` are given to a policy without ``interject``.
    ``progress`` is called with each finished episode.
    """
    in_process = cfg.workers == 1 and cfg.backend == "local"
    if policy is not None and not in_process:
        raise ValueError(
            "a policy object cannot be sent to worker processes or Ray tasks: pass workers=1 with the "
            "local backend, or give the policy by name, run directory or package.module:factory in cfg.policy"
        )
    resolved = as_rollout_policy(policy) if policy is not None else load_rollout_policy(cfg.policy)
    check_compatible(resolved, cfg.embodiment)
    if cfg.interjections:
        interject_method(resolved)  # InterjectionError before any rollout
    image_size = cfg.image_size or _env_image_size(resolved.image_size)
    conditions = cfg.conditions()
    items = [(c.label, c.shifts, seed) for c in conditions for seed in cfg.seeds()]
    make_worker = partial(EpisodeWorker, cfg, image_size, resolved if in_process else None)
    start = time.perf_counter()
    records = []
    for record in run_pool(make_worker, items, cfg.workers, cfg.backend, cfg.address):
        records.append(record)
        if progress is not None:
            progress(record)
    wall = time.perf_counter() - start
    order = {c.label: i for i, c in enumerate(conditions)}
    records.sort(key=lambda r: (order[r.condition], r.seed))
    select_videos(records, cfg.videos)
    from hivla.sim import get_suite
    from hivla.sim.env import CONTROL_HZ

    env_hz = getattr(get_suite(cfg.suite), "fps", CONTROL_HZ)  # an external suite's control rate
    config = {**cfg.to_dict(), "image_size": image_size}
    config["execute_steps"] = cfg.execute_steps or resolved.execute_steps
    policy_info = {**resolved.describe(), "spec": cfg.policy if policy is None else resolved.name}
    metrics = compute_metrics(records, [c.label for c in conditions], env_hz=env_hz)
    return EvalResults(config, policy_info, metrics, records, run_info(wall))


# What makes a saved evaluation the same as a requested one (workers, videos and the backend do not).
SAME_EVALUATION_KEYS = (
    "policy", "suite", "embodiment", "episodes", "max_steps", "split", "first_seed_index", "shifts", "shift_mode",
    "interjections",
)  # fmt: skip


def evaluate_or_reuse(cfg: EvalConfig, where: Path) -> tuple[EvalResults, bool]:
    """The evaluation saved in ``where`` when its settings match ``cfg`` (``SAME_EVALUATION_KEYS``),
    else a new one, saved there; and whether it was reused."""
    if (where / "results.json").is_file():
        saved = EvalResults.load(where)
        wanted = cfg.to_dict()  # as saved: tuples as lists
        if all(saved.config.get(k) == wanted[k] for k in SAME_EVALUATION_KEYS):
            return saved, True
    results = evaluate(cfg)
    results.save(where)
    return results, False
