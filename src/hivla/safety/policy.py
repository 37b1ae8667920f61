"""Wrappers that put a :class:`SafetyFilter` around a policy (chunks) or an actor (steps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hivla.safety.filter import SafetyConfig, SafetyFilter
from hivla.types import Observation

EEPositionFn = Callable[[Observation], Any]  # obs -> end-effector xyz float[3] or float[B, 3]
BasePoseFn = Callable[[Observation], Any]  # obs -> a wheeled base's (x, y, yaw) float[3] or float[B, 3]


def _make_filter(safety: SafetyConfig | SafetyFilter) -> SafetyFilter:
    return safety if isinstance(safety, SafetyFilter) else SafetyFilter(safety)


def _check_ee_fn(
    filt: SafetyFilter, ee_position: EEPositionFn | None, base_pose: BasePoseFn | None = None
) -> None:
    if filt.config.has_workspace and ee_position is None:
        raise ValueError("the safety config has a workspace box: pass ee_position(obs) -> end-effector xyz")
    if filt.config.has_base and base_pose is None:
        raise ValueError("the safety config has a wheeled base: pass base_pose(obs) -> its (x, y, yaw)")


class SafePolicy:
    """A policy whose chunks pass through a safety filter: ``sample_actions(obs) -> float32[B, H, A]``.

    Each chunk is filtered as the trajectory executed from now (rate limit from the last
    executed action, workspace from ``ee_position(obs)``). ``execute_steps`` is how many actions
    of each chunk will run (the chunk broker's k; default: all H); action k-1 then becomes the
    rate-limit reference for the next chunk. Under temporal ensembling the executed actions are
    averages, not chunk entries: put :class:`SafeActor` after the ensembler instead.
    """

    def __init__(
        self,
        policy: Any,
        safety: SafetyConfig | SafetyFilter,
        ee_position: EEPositionFn | None = None,
        execute_steps: int | None = None,
        base_pose: BasePoseFn | None = None,
    ) -> None:
        self.policy = policy
        self.filter = _make_filter(safety)
        _check_ee_fn(self.filter, ee_position, base_pose)
        self.base_pose = base_pose
        if execute_steps is not None and (not isinstance(execute_steps, int) or execute_steps < 1):
            raise ValueError(f"execute_steps must be None or an int >= 1, got {execute_steps!r}")
        self.ee_position = ee_position
        self.execute_steps = execute_steps

    @property
    def interventions(self) -> dict[str, int]:
        return self.filter.interventions

    def sample_actions(self, obs: Observation) -> np.ndarray:
        chunk = self.policy.sample_actions(obs)
        if hasattr(chunk, "detach"):  # torch.Tensor
            chunk = chunk.detach().cpu().numpy()
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.ndim != 3:
            raise ValueError(f"policy.sample_actions must return float[B, H, A], got shape {chunk.shape}")
        ee = None if self.ee_position is None else self.ee_position(obs)
        commit = chunk.shape[1] if self.execute_steps is None else min(self.execute_steps, chunk.shape[1])
        base = None if self.base_pose is None else self.base_pose(obs)
        return self.filter.filter_chunk(chunk, ee, commit_steps=commit, base_pose=base)

    def reset(self) -> None:
        """Reset the policy and the filter's previous action (a latched e-stop stays latched)."""
        self.policy.reset()
        self.filter.reset()


class SafeActor:
    """Filters every executed action of an actor with ``act(obs)`` / ``act_batch(obs)``, e.g. a
    :class:`~hivla.actions.chunking.ChunkBroker` or ``TemporalEnsembler`` (the step-level seam:
    chunk broker -> safety -> env)."""

    def __init__(
        self,
        actor: Any,
        safety: SafetyConfig | SafetyFilter,
        ee_position: EEPositionFn | None = None,
        base_pose: BasePoseFn | None = None,
    ) -> None:
        self.actor = actor
        self.filter = _make_filter(safety)
        _check_ee_fn(self.filter, ee_position, base_pose)
        self.ee_position, self.base_pose = ee_position, base_pose

    @property
    def interventions(self) -> dict[str, int]:
        return self.filter.interventions

    def _ee(self, obs: Observation) -> Any:
        return None if self.ee_position is None else self.ee_position(obs)

    def _base(self, obs: Observation) -> Any:
        return None if self.base_pose is None else self.base_pose(obs)

    def act(self, obs: Observation) -> np.ndarray:
        """The filtered next action float32[A] (batch of one)."""
        return self.filter.step(self.actor.act(obs), self._ee(obs), self._base(obs))

    def act_batch(self, obs: Observation) -> np.ndarray:
        """The filtered next actions float32[B, A]."""
        return self.filter.step(np.atleast_2d(self.actor.act_batch(obs)), self._ee(obs), self._base(obs))

    def reset(self) -> None:
        self.actor.reset()
        self.filter.reset()
