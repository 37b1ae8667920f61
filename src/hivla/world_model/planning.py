"""Model-predictive control in latent space: the cross-entropy method over action chunks.

CEM (Rubinstein 1999; as used for planning in PlaNet, Hafner et al. 2019, and V-JEPA 2-AC):
sample ``samples`` chunks from a diagonal Gaussian, imagine each with the world model, keep the
``elites`` lowest-cost ones, refit the Gaussian, repeat ``iterations`` times; return the best
chunk seen. The cost of a chunk adds

* ``goal``: mean squared distance of the last imagined latent to a goal embedding (if set);
* ``risk``: the largest per-step probability of a violation event (table contact, collision,
  object leaving, drop), times ``risk_weight``;
* ``outcome``: minus the predicted success of the current subtask, times ``outcome_weight``;
* ``prior``: squared distance to a proposal chunk (normalized units), times ``prior_weight``.

:class:`CEMPolicy` plans from scratch towards a goal (a policy of its own). :class:`CEMRefiner`
wraps a policy (e.g. the VLA) and refines each proposal around itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hivla.types import Observation
from hivla.world_model.events import VIOLATIONS
from hivla.world_model.model import WorldModel


@dataclass(frozen=True)
class CEMConfig:
    """CEM sizes and cost weights. ``init_std``/``min_std`` are fractions of each action
    dimension's range in the training data (q01..q99)."""

    horizon: int = 8
    samples: int = 64
    elites: int = 8
    iterations: int = 4
    init_std: float = 0.5
    min_std: float = 0.02
    goal_weight: float = 1.0
    risk_weight: float = 1.0
    outcome_weight: float = 0.0
    prior_weight: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.horizon, self.samples, self.elites, self.iterations) < 1:
            raise ValueError("horizon, samples, elites and iterations must be >= 1")
        if self.elites > self.samples:
            raise ValueError(f"elites ({self.elites}) must not exceed samples ({self.samples})")
        if self.init_std <= 0 or self.min_std < 0:
            raise ValueError("init_std must be > 0 and min_std >= 0")
        if min(self.goal_weight, self.risk_weight, self.outcome_weight, self.prior_weight) < 0:
            raise ValueError("cost weights must be >= 0")


class CEMPlanner:
    """``plan(z, mean=None) -> (chunk float32[H, A], info)`` for one latent z float[1, D + S] (world-model
    action space, raw units). ``goal``: a target-space embedding float[D + S] or None."""

    def __init__(self, model: WorldModel, config: CEMConfig | None = None) -> None:
        self.model, self.config = model.eval(), config or CEMConfig()
        stats = model.stats["action"]
        self.low = torch.as_tensor(np.asarray(stats.q01, np.float32))
        self.high = torch.as_tensor(np.asarray(stats.q99, np.float32))
        self.goal: torch.Tensor | None = None
        self._risk_idx = [model.config.events.index(e) for e in VIOLATIONS if e in model.config.events]
        self._rng = torch.Generator().manual_seed(self.config.seed)

    def cost(self, z: torch.Tensor, chunks: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
        """Cost float[N] of chunks float[N, H, A] from z float[1, D + S]."""
        cfg, model = self.config, self.model
        zs, probs = model.imagine_events(z.expand(chunks.shape[0], -1), chunks)  # (N, H, D), (N, H, E)
        cost = torch.zeros(chunks.shape[0])
        if self.goal is not None and cfg.goal_weight:
            cost += cfg.goal_weight * ((zs[:, -1] - self.goal) ** 2).mean(-1)
        if cfg.risk_weight and self._risk_idx:
            step = 1.0 - torch.prod(1.0 - probs[..., self._risk_idx], dim=-1)  # (N, H)
            cost += cfg.risk_weight * step.max(dim=1).values
        if cfg.outcome_weight and "subtask_done" in model.config.events:
            done = probs[..., model.config.events.index("subtask_done")]
            p_done = 1.0 - torch.prod(1.0 - done, dim=1)
            cost -= cfg.outcome_weight * (p_done + (1.0 - p_done) * model.outcome_prob(zs[:, -1]))
        if prior is not None and cfg.prior_weight:
            scale = (self.high - self.low).clamp_min(1e-3) / 2
            cost += cfg.prior_weight * (((chunks - prior) / scale) ** 2).mean(dim=(1, 2))
        return cost

    @torch.no_grad()
    def plan(
        self, z: torch.Tensor, mean: torch.Tensor | None = None, std_scale: float = 1.0
    ) -> tuple[np.ndarray, dict[str, Any]]:
        cfg = self.config
        h, a = cfg.horizon, self.low.numel()
        span = (self.high - self.low).clamp_min(0.0)
        prior = None if mean is None else torch.as_tensor(mean, dtype=torch.float32).reshape(h, a)
        mu = prior.clone() if prior is not None else ((self.low + self.high) / 2).expand(h, a).clone()
        std = (cfg.init_std * std_scale * span / 2).expand(h, a).clone()
        best, best_cost = mu.clone(), float("inf")
        if prior is not None:
            best_cost = float(self.cost(z, prior[None], prior[None])[0])
            best = prior.clone()
        history = []
        for _ in range(cfg.iterations):
            noise = torch.randn(cfg.samples, h, a, generator=self._rng)
            chunks = torch.maximum(torch.minimum(mu + std * noise, self.high), self.low)  # (N, H, A)
            costs = self.cost(z, chunks, None if prior is None else prior[None])
            order = torch.argsort(costs)
            elite = chunks[order[: cfg.elites]]  # (elites, H, A)
            mu, std = elite.mean(0), torch.maximum(elite.std(0), cfg.min_std * span / 2)
            history.append(float(costs[order[0]]))
            if float(costs[order[0]]) < best_cost:
                best_cost, best = float(costs[order[0]]), chunks[order[0]].clone()
        return best.numpy().astype(np.float32), {"cost": best_cost, "history": history}


class _ChunkConverter:
    """World-model (universal) <-> policy (native) actions through the env, when needed."""

    def __init__(self, model: WorldModel) -> None:
        self.model, self.env = model, None

    def bind(self, env: Any, native: bool) -> None:
        raw = getattr(env, "unwrapped", env)
        self.env = raw if native and self.model.config.action_key == "action.universal" else None

    def to_model(self, chunk: np.ndarray) -> np.ndarray:
        if self.env is None:
            return chunk
        return np.stack([self.env.to_universal(a) for a in chunk]).astype(np.float32)

    def to_policy(self, chunk: np.ndarray) -> np.ndarray:
        if self.env is None:
            return chunk
        return np.stack([self.env.from_universal(a) for a in chunk]).astype(np.float32)


class CEMPolicy:
    """A policy of its own: plan a chunk towards the goal each query. Set the goal with
    ``set_goal_observation(obs)`` (or pass ``goal``). Emits native actions of the env given to
    ``start_episode`` (universal actions without one)."""

    needs_images = True

    def __init__(self, model: WorldModel, config: CEMConfig | None = None, execute_steps: int = 4) -> None:
        self.planner = CEMPlanner(model, config)
        self.execute_steps = execute_steps
        self.name = "cem"
        self.action_space = "universal"
        self._convert = _ChunkConverter(model)
        self._previous: torch.Tensor | None = None

    def set_goal_observation(self, obs: Observation) -> None:
        with torch.no_grad():
            self.planner.goal = self.planner.model.encode_target(obs)[0]

    def start_episode(self, env: Any, seed: int) -> None:
        self.action_space = "native"
        self._convert.bind(env, native=True)
        self.planner._rng.manual_seed(seed)

    def reset(self) -> None:
        self._previous = None

    def sample_actions(self, obs: Observation) -> np.ndarray:
        with torch.no_grad():
            z = self.planner.model.encode(obs)
        mean = None
        if self._previous is not None:  # warm start: shift the last plan by the executed steps
            k = self.execute_steps
            mean = torch.cat([self._previous[k:], self._previous[-1:].expand(k, -1)])
        chunk, _ = self.planner.plan(z, mean)
        self._previous = torch.from_numpy(chunk)
        return self._convert.to_policy(chunk)[None]  # (1, H, A)


class CEMRefiner:
    """Wraps a policy: its chunk is the prior and the initial mean of CEM, which searches nearby
    for a chunk with lower predicted risk (and higher predicted success / goal proximity)."""

    needs_images = True

    def __init__(
        self, policy: Any, model: WorldModel, config: CEMConfig | None = None, std_scale: float = 0.3
    ) -> None:
        cfg = config or CEMConfig(prior_weight=1.0, outcome_weight=0.5)
        self.policy, self.planner, self.std_scale = policy, CEMPlanner(model, cfg), std_scale
        for key in ("name", "action_space", "embodiments", "action_dim", "execute_steps", "image_size"):
            if hasattr(policy, key):
                setattr(self, key, getattr(policy, key))
        self.name = f"{getattr(policy, 'name', type(policy).__name__)}+cem"
        self._convert = _ChunkConverter(model)
        self.refined = 0

    def start_episode(self, env: Any, seed: int) -> None:
        hook = getattr(self.policy, "start_episode", None)
        if callable(hook):
            hook(env, seed)
        self._convert.bind(env, native=getattr(self.policy, "action_space", "native") == "native")
        self.planner._rng.manual_seed(seed)

    def reset(self) -> None:
        self.policy.reset()

    def sample_actions(self, obs: Observation) -> np.ndarray:
        proposal = self.policy.sample_actions(obs)
        arr = np.asarray(
            proposal.detach().cpu().numpy() if hasattr(proposal, "detach") else proposal, np.float32
        )
        h = self.planner.config.horizon
        if arr.shape[1] < h:
            raise ValueError(f"the policy's chunk has H={arr.shape[1]} steps; the CEM horizon is {h}")
        with torch.no_grad():
            z = self.planner.model.encode(obs)
        prior = self._convert.to_model(arr[0, :h])
        chunk, _ = self.planner.plan(z, torch.from_numpy(prior), self.std_scale)
        if not np.allclose(chunk, prior):
            self.refined += 1
        out = arr.copy()
        out[0, :h] = self._convert.to_policy(chunk)
        return out
