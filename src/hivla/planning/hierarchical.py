"""The hierarchical policy: planner -> subtask queue -> low-level policy, with a subtask monitor,
retries, replanning and human interjections.

The low-level policy is any evaluation policy conditioned on language; it sees the observation with
``instruction`` replaced by the current subtask's text. The monitor decides when a subtask is done;
on failure (step budget, a drop) the subtask is retried, then the rest of the task is replanned.
When the planner cannot plan (``PlanError``: an invalid plan, an unreachable LLM), the low level gets
the whole instruction as a flat policy would, and the history records the error.

With a ``trigger`` (:class:`~hivla.planning.wm_trigger.WorldModelReplanTrigger`) a world model
checks each chunk of the low level before it runs; when it predicts that the current subtask fails,
the subtask is handled as failed at once (retry, then replan; the history records
``wm_predicted_failure``) and the low level is asked again for the new current subtask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hivla.planning.grammar import PlanError
from hivla.planning.monitor import DONE, FAILED
from hivla.planning.scene import scene_objects
from hivla.policies.runtime import RolloutPolicy, as_rollout_policy
from hivla.sim.predicates import is_done
from hivla.types import Plan, Subtask

UNPLANNED = "unplanned"  # the kind of the one-step fallback plan: the whole instruction


@dataclass(frozen=True)
class HierarchyConfig:
    max_retries: int = 1  # retries of a failed subtask before replanning the rest
    max_replans: int = 2

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_replans < 0:
            raise ValueError(f"max_retries and max_replans must be >= 0, got {self}")


class OracleMonitor:
    """Upper bound for ablations: the env's own predicate says when the subtask is done."""

    def __init__(self, budget: int = 80) -> None:
        self.env, self.budget, self.steps = None, budget, 0

    def reset(self) -> None:
        self.steps = 0

    def status(self, obs: dict, subtask: Subtask, steps: int = 1) -> str:
        self.steps += steps
        if is_done(self.env, subtask):
            return DONE
        return FAILED if self.steps > self.budget else "running"


class HierarchicalPolicy(RolloutPolicy):
    """An :class:`RolloutPolicy` made of a planner, a monitor and a low-level policy.

    ``planner.plan(obs, instruction, objects) -> Plan`` (objects: the scene's names, from the env at
    episode start); ``monitor.status(obs, subtask, steps)``; ``low_level.sample_actions(obs)``.
    """

    def __init__(self, planner: Any, low_level: Any, monitor: Any = None, cfg: HierarchyConfig | None = None,
                 name: str = "hierarchical", trigger: Any = None) -> None:  # fmt: skip
        self.planner, self.low = planner, as_rollout_policy(low_level)
        self.trigger = trigger
        self.monitor = monitor if monitor is not None else OracleMonitor()
        self.cfg = cfg or HierarchyConfig()
        self.name = name
        self.action_space, self.embodiments = self.low.action_space, self.low.embodiments
        self.action_dim, self.image_size = self.low.action_dim, self.low.image_size
        self.sensors = self.low.sensors
        self.execute_steps = self.low.execute_steps
        self.needs_images = (
            self.low.needs_images or not isinstance(self.monitor, OracleMonitor) or trigger is not None
        )
        self.plan_ms: list[float] = []
        self._objects: dict[str, str] | None = None
        self._reset_episode()

    def _reset_episode(self) -> None:
        self.plan: Plan | None = None
        self.index = self.retries = self.replans = 0
        self.instruction: str | None = None
        self.history: list[tuple[str, str]] = []  # (event, subtask or instruction text)
        self.plans: list[list[str]] = []  # every plan made this episode, as subtask texts
        self._last_obs: dict[str, Any] | None = None

    # ---- episode -------------------------------------------------------------------------------
    def start_episode(self, env: Any, seed: int) -> None:
        self._objects = scene_objects(env)
        if isinstance(self.monitor, OracleMonitor):
            self.monitor.env = env
        if hasattr(self.planner, "env"):
            self.planner.env = env
        self.low.start_episode(env, seed)
        if self.trigger is not None:
            self.trigger.start_episode(env, self.low)

    def reset(self) -> None:
        self._reset_episode()
        self._restart_subtask()

    def interject(self, instruction: str) -> None:
        """A new or corrected instruction: replan from the current state at the next step."""
        self.instruction, self.plan = instruction, None
        self.history.append(("interjection", instruction))

    # ---- acting --------------------------------------------------------------------------------
    def sample_actions(self, obs: dict[str, Any]) -> Any:
        """The low level's chunk for the current subtask. Asked again for the same observation (a
        veto resampling), it only resamples the low level: the monitor's step count and the
        trigger see each observation once."""
        again = obs is self._last_obs
        self._last_obs = obs
        if self.plan is None:
            self._replan(obs, self.instruction or obs["instruction"])
        if not again:
            self._track(obs)
        chunk = self.low.sample_actions({**obs, "instruction": self.current.text})
        if again or self.trigger is None or self.current.kind == UNPLANNED or not self._can_recover():
            return chunk
        if self.trigger.check(obs, chunk):
            self.history.append(("wm_predicted_failure", self.current.text))
            self._on_failure(obs)
            chunk = self.low.sample_actions({**obs, "instruction": self.current.text})
        return chunk

    def _can_recover(self) -> bool:
        """A retry or a replan is left in the budget."""
        return self.retries < self.cfg.max_retries or self.replans < self.cfg.max_replans

    def _restart_subtask(self) -> None:
        """A fresh start on the current subtask: the monitor, the low level and the trigger."""
        self.monitor.reset()
        self.low.reset()
        if self.trigger is not None:
            self.trigger.reset()

    def _replan(self, obs: dict[str, Any], instruction: str) -> None:
        start = time.perf_counter()
        try:
            self.plan = self.planner.plan(obs, instruction, self._objects)
        except PlanError as err:
            self.history.append(("plan_error", str(err)))
            self.plan = Plan(instruction, (Subtask(UNPLANNED, text=instruction),))
        self.plan_ms.append((time.perf_counter() - start) * 1000)
        self.plans.append([s.text for s in self.plan.subtasks])
        self.instruction, self.index, self.retries = instruction, 0, 0
        self._restart_subtask()

    def _track(self, obs: dict[str, Any]) -> None:
        """Advance past done subtasks; retry or replan a failed one."""
        while self.index < len(self.plan.subtasks) and self.current.kind != UNPLANNED:
            status = self.monitor.status(obs, self.current, steps=self.execute_steps)
            if status == DONE:
                self.history.append(("done", self.current.text))
                self.index += 1
                self.retries = 0
                self._restart_subtask()
                continue
            if status == FAILED:
                self._on_failure(obs)
            return

    def _on_failure(self, obs: dict[str, Any]) -> None:
        self.history.append(("failed", self.current.text))
        self._restart_subtask()
        if self.retries < self.cfg.max_retries:
            self.retries += 1
            return
        if self.replans < self.cfg.max_replans:
            self.replans += 1
            remaining = self.plan.subtasks[self.index :]
            # Replan the whole instruction, then drop what is already done (the planner sees the
            # current observation; the learned planner re-reads the instruction).
            self._replan(obs, self.instruction)
            done = len(self.plan.subtasks) - len(remaining)
            self.index = max(0, done)

    @property
    def current(self) -> Subtask:
        return self.plan.subtasks[min(self.index, len(self.plan.subtasks) - 1)]

    @property
    def plan_subtask(self) -> str | None:
        return None if self.plan is None else self.current.text

    @property
    def plan_subtasks(self) -> list[str] | None:
        return None if self.plan is None else [s.text for s in self.plan.subtasks]

    @property
    def reasoning(self) -> str | None:
        return self.low.reasoning

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        return getattr(self.low, "looking_at", None)
