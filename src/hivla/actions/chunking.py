"""Policy wrappers that turn predicted chunks into per-step actions.

A policy is anything with ``sample_actions(obs) -> float32[B, H, A]`` (numpy or torch) and
``reset()``. The wrappers here are the only place chunk execution and temporal ensembling live;
policies never copy them (CONTRIBUTING.md, "Conventions").
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hivla.types import Observation


@runtime_checkable
class Policy(Protocol):
    """What the wrappers need: a chunk sampler and an episode reset."""

    def sample_actions(self, obs: Observation) -> Any:  # float32[B, H, A], numpy or torch
        ...

    def reset(self) -> None: ...


def as_chunk(chunk: Any) -> np.ndarray:
    """A policy's output (numpy or torch) -> float32[B, H, A]; ValueError on a bad shape.

    Non-finite values pass through on purpose: the safety filter after these wrappers
    (``hivla.safety.SafeActor``) replaces them with the hold action and counts them.
    """
    if hasattr(chunk, "detach"):  # torch.Tensor, without importing torch here
        chunk = chunk.detach().cpu().numpy()
    arr = np.asarray(chunk, dtype=np.float32)
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"policy.sample_actions must return float[B, H, A], got shape {arr.shape}")
    return arr


def _single(actions: np.ndarray) -> np.ndarray:
    if actions.shape[0] != 1:
        raise ValueError(
            f"act() is for batch size 1, the policy returned B={actions.shape[0]}; use act_batch()"
        )
    return actions[0]


class ChunkBroker:
    """Execute the first ``execute_steps`` (k) actions of each predicted chunk, then query again.

    Open-loop action chunking as in ACT (Zhao et al. 2023) and pi0 (Black et al. 2024): the
    policy is queried once every k control steps. ``num_queries`` counts the queries.
    """

    def __init__(self, policy: Policy, execute_steps: int) -> None:
        if not isinstance(execute_steps, int) or execute_steps < 1:
            raise ValueError(f"execute_steps must be an int >= 1, got {execute_steps!r}")
        self.policy = policy
        self.execute_steps = execute_steps
        self.num_queries = 0
        self._chunk: np.ndarray | None = None  # (B, H, A)
        self._index = 0

    def reset(self) -> None:
        """Drop the queued actions and reset the policy (call at every episode start)."""
        self.flush()
        self.policy.reset()

    def flush(self) -> None:
        """Drop the queued actions, keeping the policy's state: the next step queries it again."""
        self._chunk = None
        self._index = 0

    def act_batch(self, obs: Observation) -> np.ndarray:
        """The next action for every batch row, float32[B, A]."""
        if self._chunk is None or self._index >= self.execute_steps:
            chunk = as_chunk(self.policy.sample_actions(obs))
            if chunk.shape[1] < self.execute_steps:
                raise ValueError(
                    f"execute_steps={self.execute_steps} exceeds the policy's chunk length H={chunk.shape[1]}"
                )
            self._chunk, self._index = chunk, 0
            self.num_queries += 1
        action = self._chunk[:, self._index]  # (B, A)
        self._index += 1
        return action.copy()

    def act(self, obs: Observation) -> np.ndarray:
        """The next action float32[A] for a batch of one."""
        return _single(self.act_batch(obs))


class TemporalEnsembler:
    """Query every step and average all predictions for the current step (ACT, Zhao et al. 2023).

    At step t the chunks queried at steps t - H + 1 .. t each hold one prediction for t. Ordered
    oldest first (i = 0 is the oldest), they are weighted w_i = exp(-m * i) and averaged with
    weights normalized to sum 1: as in ACT the oldest prediction weighs most. A larger ``m``
    favours older predictions more (smoother, slower to react); ``m = 0`` is a plain mean.
    ACT uses m = 0.01. The policy's batch size B and action size A must stay fixed within an
    episode; H may not change either.
    """

    def __init__(self, policy: Policy, m: float = 0.01) -> None:
        if not (isinstance(m, int | float) and math.isfinite(m) and m >= 0):
            raise ValueError(f"m must be a finite number >= 0, got {m!r}")
        self.policy = policy
        self.m = float(m)
        self.num_queries = 0
        self._step = 0
        self._chunks: list[tuple[int, np.ndarray]] = []  # (query step, chunk (B, H, A)), oldest first

    def reset(self) -> None:
        """Forget past predictions and reset the policy (call at every episode start)."""
        self._step = 0
        self.flush()
        self.policy.reset()

    def flush(self) -> None:
        """Forget past predictions, keeping the policy's state: only new chunks count from here."""
        self._chunks = []

    def act_batch(self, obs: Observation) -> np.ndarray:
        """The ensembled action for every batch row, float32[B, A]."""
        chunk = as_chunk(self.policy.sample_actions(obs))
        self.num_queries += 1
        if self._chunks and self._chunks[-1][1].shape != chunk.shape:
            raise ValueError(
                f"chunk shape changed within an episode: {self._chunks[-1][1].shape} then {chunk.shape}"
            )
        t = self._step
        self._chunks.append((t, chunk))
        self._chunks = [(q, c) for q, c in self._chunks if t - q < c.shape[1]]  # still cover step t
        preds = np.stack([c[:, t - q] for q, c in self._chunks])  # (n, B, A), oldest first
        weights = np.exp(-self.m * np.arange(len(preds)))  # (n,)
        weights /= weights.sum()
        self._step += 1
        return np.tensordot(weights, preds, axes=(0, 0)).astype(np.float32)  # (B, A)

    def act(self, obs: Observation) -> np.ndarray:
        """The ensembled action float32[A] for a batch of one."""
        return _single(self.act_batch(obs))
