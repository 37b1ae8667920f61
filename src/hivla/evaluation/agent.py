"""The action stack the harness wraps around every policy, timed per step.

    policy --(sample_actions, timed)--> chunk executor (broker | temporal ensembler)
           --> universal -> native (``env.from_universal``, universal policies only)
           --> safety filter (limits of the embodiment) --> env.step

The safety filter is built from the embodiment's action limits (``SafetyConfig.from_embodiment``);
its workspace box is added when the first three native dims are world-frame xyz deltas (the
floating hand), and a body with a wheeled base gets its floor area (the base pose is read from the
state's ``base_x, base_y, base_yaw``). After ``estop_after_nonfinite`` non-finite actions in a row the filter's e-stop
latches and the episode ends as a safety stop.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.policies import ActionSpaceError, RolloutPolicy, interject_method
from hivla.safety import SafeActor, SafetyConfig, SafetyFilter
from hivla.types import UNIVERSAL_ACTION_DIMS, Observation

WORLD_XYZ_ACTIONS = ("dx", "dy", "dz")


@dataclass(frozen=True)
class Execution:
    """How chunks are executed and when the safety filter stops the robot."""

    execute_steps: int = 1
    ensemble: float | None = None  # temporal ensembling weight m (ACT); None = chunk broker
    estop_after_nonfinite: int = 5

    def __post_init__(self) -> None:
        if self.execute_steps < 1:
            raise ValueError(f"execute_steps must be >= 1, got {self.execute_steps}")
        if self.ensemble is not None and self.ensemble < 0:
            raise ValueError(f"ensemble (temporal ensembling m) must be >= 0 or None, got {self.ensemble}")
        if self.estop_after_nonfinite < 1:
            raise ValueError(f"estop_after_nonfinite must be >= 1, got {self.estop_after_nonfinite}")


def safety_config(embodiment: Any) -> SafetyConfig:
    """Limits of ``embodiment``; a workspace box when its native xyz dims are world-frame deltas."""
    from hivla.sim.embodiments import WORKSPACE_HIGH, WORKSPACE_LOW

    if tuple(embodiment.action_names[:3]) == WORLD_XYZ_ACTIONS:
        return SafetyConfig.from_embodiment(
            embodiment, workspace_low=WORKSPACE_LOW, workspace_high=WORKSPACE_HIGH
        )
    return SafetyConfig.from_embodiment(embodiment)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if loaded) torch global generators so an episode replays."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


class _TimedPolicy:
    """Records the wall time of every ``sample_actions`` call (ms)."""

    def __init__(self, policy: RolloutPolicy) -> None:
        self.policy = policy
        self.query_ms: list[float] = []

    def sample_actions(self, obs: Observation) -> Any:
        start = time.perf_counter()
        chunk = self.policy.sample_actions(obs)
        self.query_ms.append(1000.0 * (time.perf_counter() - start))
        return chunk

    def reset(self) -> None:
        self.policy.reset()


class _ToNative:
    """Checks each action's size and converts universal actions to the env's native ones."""

    def __init__(self, executor: Any, env: Any, policy: RolloutPolicy) -> None:
        self.executor, self.env, self.policy = executor, env, policy
        self.native_dim = env.embodiment.action_dim
        # Universal: 7 values, or 10 with a base part (dropped by a fixed body, hivla.types).
        self.expected = UNIVERSAL_ACTION_DIMS if policy.action_space == "universal" else (self.native_dim,)

    def act(self, obs: Observation) -> np.ndarray:
        action = self.executor.act(obs)  # float32[A]
        if action.ndim != 1 or action.shape[0] not in self.expected:
            takes = (
                "universal actions have"
                if self.policy.action_space == "universal"
                else f"embodiment {self.env.embodiment.name!r} takes"
            )
            raise ActionSpaceError(
                f"policy {self.policy.name!r} returned actions of size {action.shape[-1]}, but {takes} "
                f"{' or '.join(map(str, self.expected))} values. Evaluate on the embodiment the policy was "
                "trained on, or declare its action_space/action_dim correctly."
            )
        if self.policy.action_space == "native":
            return action
        if not np.all(np.isfinite(action)):  # let the safety filter count it and hold still
            return np.full(self.native_dim, np.nan, np.float32)
        return self.env.from_universal(action)

    def reset(self) -> None:
        self.executor.reset()


def _ee_xyz(obs: Observation) -> np.ndarray:
    return np.asarray(obs["state"][:3], dtype=np.float64)  # state starts with ee_x, ee_y, ee_z


def _base_pose_reader(embodiment: Any) -> Any:
    """obs -> the base's (x, y, yaw) float[3], read from the state (``base_x, base_y, base_yaw``)."""
    idx = [list(embodiment.state_names).index(n) for n in ("base_x", "base_y", "base_yaw")]
    return lambda obs: np.asarray(obs["state"], dtype=np.float64)[idx]


class Agent:
    """One policy's full action stack on one env. ``start(seed)`` then ``act(obs)`` each step."""

    def __init__(self, policy: RolloutPolicy, env: Any, execution: Execution) -> None:
        self.policy, self.env, self.execution = policy, env, execution
        from hivla.actions.chunking import ChunkBroker, TemporalEnsembler  # the package imports torch

        self.timer = _TimedPolicy(policy)
        if execution.ensemble is not None:
            executor: Any = TemporalEnsembler(self.timer, execution.ensemble)
        else:
            executor = ChunkBroker(self.timer, execution.execute_steps)
        self.executor = executor
        self.safety = SafetyFilter(safety_config(env.embodiment))
        ee = _ee_xyz if self.safety.config.has_workspace else None
        base = _base_pose_reader(env.embodiment) if self.safety.config.has_base else None
        self.actor = SafeActor(_ToNative(executor, env, policy), self.safety, ee_position=ee, base_pose=base)
        self.step_ms: list[float] = []
        self._nonfinite_run = 0

    def start(self, seed: int) -> None:
        """Prepare a new episode (call after ``env.reset(seed=seed)``)."""
        seed_everything(seed)
        self.policy.start_episode(self.env, seed)
        self.safety.release_estop()  # each episode starts from a fresh robot
        self.safety.reset_counts()
        self.actor.reset()
        self.timer.query_ms = []
        self.step_ms = []
        self._nonfinite_run = 0

    def interject(self, text: str) -> None:
        """Give the policy a new instruction now; the queued actions of its last chunk are dropped,
        so the next step queries it. Raises ``InterjectionError`` if the policy cannot take one."""
        interject_method(self.policy)(text)
        self.executor.flush()

    def act(self, obs: Observation) -> np.ndarray:
        """The filtered native action for this step; latches the e-stop on repeated NaN/inf."""
        before = self.safety.interventions["nonfinite"]
        start = time.perf_counter()
        action = self.actor.act(obs)
        self.step_ms.append(1000.0 * (time.perf_counter() - start))
        nonfinite = self.safety.interventions["nonfinite"] > before
        self._nonfinite_run = self._nonfinite_run + 1 if nonfinite else 0
        if self._nonfinite_run >= self.execution.estop_after_nonfinite:
            self.safety.estop()
        return action

    @property
    def stopped(self) -> bool:
        return self.safety.estopped

    @property
    def interventions(self) -> dict[str, int]:
        return dict(self.safety.interventions)

    @property
    def query_ms(self) -> list[float]:
        return self.timer.query_ms
