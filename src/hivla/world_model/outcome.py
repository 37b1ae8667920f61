"""Outcome prediction: will the current subtask succeed if this chunk is executed?

From an imagined rollout of the chunk, P(success) = P(the subtask completes during the chunk)
+ P(it does not) * P(it completes within ``outcome_horizon`` steps after the chunk), with the
first term from the ``subtask_done`` event head over the imagined steps and the second from the
outcome head on the last imagined latent (a learned value of the data's behaviour, as success
detectors in the world-model literature; cf. DreamerV3's reward/continue heads).

:class:`OutcomeMonitor` wraps a policy and records the prediction for every chunk it emits, so a
subtask monitor or replanner can act on ``last_success_prob``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hivla.types import Observation
from hivla.world_model.model import WorldModel


class OutcomePredictor:
    """``predict(obs, chunk) -> float[B]`` success probabilities of the current subtask."""

    def __init__(self, model: WorldModel) -> None:
        if "subtask_done" not in model.config.events:
            raise ValueError("outcome prediction needs the world model's 'subtask_done' event head")
        self.model = model.eval()
        self._done = model.config.events.index("subtask_done")

    @torch.no_grad()
    def predict_latent(self, z: torch.Tensor, chunk: torch.Tensor) -> torch.Tensor:
        """z float[B, D + S], raw actions float[B, H, A] (world-model space) -> float[B]."""
        zs, probs = self.model.imagine_events(z, chunk)  # (B, H, D), (B, H, E)
        p_done = 1.0 - torch.prod(1.0 - probs[..., self._done], dim=1)  # (B,)
        return p_done + (1.0 - p_done) * self.model.outcome_prob(zs[:, -1])

    def predict(self, obs: Observation, chunk: Any) -> np.ndarray:
        z = self.model.encode(obs)
        actions = torch.as_tensor(np.asarray(chunk, np.float32), device=self.model.device)
        return self.predict_latent(z.expand(actions.shape[0], -1), actions).cpu().numpy()


class OutcomeMonitor:
    """Policy wrapper: passes chunks through unchanged and records their predicted success.

    ``to_universal`` converts one policy action to the world model's space (identity if None).
    ``history`` holds one float per emitted chunk (batch row 0).
    """

    def __init__(self, policy: Any, model: WorldModel, to_universal: Any = None) -> None:
        self.policy, self.predictor, self.to_universal = policy, OutcomePredictor(model), to_universal
        for key in ("name", "action_space", "embodiments", "action_dim", "execute_steps", "image_size"):
            if hasattr(policy, key):
                setattr(self, key, getattr(policy, key))
        self.history: list[float] = []

    @property
    def last_success_prob(self) -> float | None:
        return self.history[-1] if self.history else None

    def start_episode(self, env: Any, seed: int) -> None:
        hook = getattr(self.policy, "start_episode", None)
        if callable(hook):
            hook(env, seed)
        if getattr(self.policy, "action_space", "native") == "native" and self.to_universal is None:
            self.to_universal = getattr(env, "unwrapped", env).to_universal
        self.history = []

    def reset(self) -> None:
        self.policy.reset()

    def sample_actions(self, obs: Observation) -> Any:
        chunk = self.policy.sample_actions(obs)
        arr = np.asarray(chunk.detach().cpu().numpy() if hasattr(chunk, "detach") else chunk, np.float32)
        if self.to_universal is not None:
            arr = np.stack([[self.to_universal(a) for a in row] for row in arr]).astype(np.float32)
        self.history.append(float(self.predictor.predict(obs, arr)[0]))
        return chunk
