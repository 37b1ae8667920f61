"""Implicit reward: how close an imagined future is to a goal, in the world model's embedding space.

``r(obs, chunk) = -mean((z_{t+H} - z_goal)^2)`` with ``z_{t+H}`` the imagined latent after the
chunk and ``z_goal`` the embedding of a goal observation or of a subtask. This is the energy
V-JEPA 2-AC minimizes when it plans towards a goal image (Assran et al. 2025), exposed as a
reward function for post-training (e.g. RL fine-tuning or ranking a policy's samples).

:class:`SubtaskGoals` gives goals without a goal image: the mean target embedding of the frames
right after a subtask of each kind completed in a dataset ("what 'picked' looks like").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from hivla.types import Observation
from hivla.world_model.data import EpisodeArrays
from hivla.world_model.model import WorldModel


class LatentGoalReward:
    """A reward function ``reward(obs, chunk) -> float[B]`` towards one goal embedding."""

    def __init__(self, model: WorldModel, goal: torch.Tensor | None = None) -> None:
        self.model = model.eval()
        self.goal = None if goal is None else torch.as_tensor(goal, dtype=torch.float32).reshape(-1)

    def set_goal_observation(self, obs: Observation) -> None:
        """Use the target embedding of ``obs`` (e.g. a goal image with its state) as the goal."""
        with torch.no_grad():
            self.goal = self.model.encode_target(obs)[0]

    def set_goal_latent(self, z: torch.Tensor) -> None:
        self.goal = torch.as_tensor(z, dtype=torch.float32).reshape(-1)

    def from_latents(self, z: torch.Tensor) -> torch.Tensor:
        """Reward float[...] of latents float[..., D + S] (higher is closer to the goal)."""
        if self.goal is None:
            raise RuntimeError("set a goal first: set_goal_observation(obs) or set_goal_latent(z)")
        return -((z - self.goal.to(z.device)) ** 2).mean(-1)

    @torch.no_grad()
    def __call__(self, obs: Observation, chunk: Any) -> np.ndarray:
        """Reward of executing ``chunk`` float[B, H, A] (world-model action space) from ``obs``."""
        actions = torch.as_tensor(np.asarray(chunk, np.float32), device=self.model.device)
        z = self.model.encode(obs).expand(actions.shape[0], -1)
        return self.from_latents(self.model.rollout(z, actions)[:, -1]).cpu().numpy()


class SubtaskGoals:
    """Goal embeddings per subtask kind, fitted on episodes with ``info["subtask_kinds"]``
    (one kind per subtask of the chain) and ``info["subtask_index"]`` (per frame): the mean target
    embedding of the frames right after a subtask of that kind completed."""

    def __init__(self, goals: dict[str, torch.Tensor]) -> None:
        self.goals = goals

    @classmethod
    @torch.no_grad()
    def fit(cls, model: WorldModel, episodes: Sequence[EpisodeArrays]) -> SubtaskGoals:
        from hivla.world_model.events import EVENT_NAMES
        from hivla.world_model.metrics import encode_episode

        done = EVENT_NAMES.index("subtask_done")
        sums: dict[str, list[torch.Tensor]] = {}
        for ep in episodes:
            kinds, index = ep.info.get("subtask_kinds"), ep.info.get("subtask_index")
            if kinds is None or index is None:
                continue
            _, target, _ = encode_episode(model, ep)
            for t in np.flatnonzero(np.nan_to_num(ep.events[:, done]) > 0):
                kind = kinds[min(int(index[t]), len(kinds) - 1)]
                # the frame after completion; datasets do not store an episode's final observation,
                # so for the last step the frame before it stands in
                sums.setdefault(kind, []).append(target[min(int(t) + 1, ep.length - 1)])
        if not sums:
            raise ValueError("no completed subtasks with subtask_kinds/subtask_index in the episodes' info")
        return cls({k: torch.stack(v).mean(0) for k, v in sums.items()})

    def reward(self, model: WorldModel, kind: str) -> LatentGoalReward:
        if kind not in self.goals:
            raise KeyError(f"no goal embedding for subtask kind {kind!r}; have {sorted(self.goals)}")
        return LatentGoalReward(model, self.goals[kind])
