"""Built-in rollout policies that need no training: the scripted expert and uniform random actions.

Registered in :data:`hivla.policies.specs.ROLLOUT_POLICIES` by name, so ``hivla eval --policy expert``,
``hivla sim rollout --policy random`` and every other rollout resolve them the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hivla.policies.runtime import RolloutPolicy
from hivla.policies.specs import register_rollout_policy
from hivla.types import Observation


@register_rollout_policy("expert")
class ExpertPolicy(RolloutPolicy):
    """The scripted expert (privileged state); its annotation is the reasoning text."""

    name = "expert"
    needs_images = False

    def __init__(self) -> None:
        self._expert = None
        self._reasoning: str | None = None

    def start_episode(self, env: Any, seed: int) -> None:
        from hivla.sim.adapters.env import ExternalEnv
        from hivla.sim.expert import ScriptedExpert

        self._expert = ExternalScripted(env) if isinstance(env, ExternalEnv) else ScriptedExpert(env)

    def reset(self) -> None:
        self._reasoning = None
        if self._expert is not None:
            self._expert.reset()

    def sample_actions(self, obs: Observation) -> np.ndarray:
        if self._expert is None:
            raise RuntimeError("ExpertPolicy.start_episode(env, seed) must run before sample_actions")
        action, annotation = self._expert.act(obs)
        self._reasoning = annotation.text()
        return np.asarray(action, dtype=np.float32)[None, None]  # (1, 1, A)

    @property
    def reasoning(self) -> str | None:
        return self._reasoning


class ExternalScripted:
    """An external benchmark's own scripted policy (``env.scripted_action()``), as the expert."""

    def __init__(self, env: Any) -> None:
        self.env = env

    def reset(self) -> None:
        pass

    def act(self, obs: Observation | None = None) -> tuple[np.ndarray, Any]:
        return self.env.scripted_action(), _Note(f"scripted {self.env.spec.task.name}")


class _Note:
    """The reasoning text of an external scripted policy: which task it scripts."""

    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text


@register_rollout_policy("random")
class RandomPolicy(RolloutPolicy):
    """Uniform random native actions, drawn from a generator seeded by the episode seed."""

    name = "random"
    needs_images = False

    def __init__(self) -> None:
        self._low = self._high = None
        self._rng = np.random.default_rng(0)

    def start_episode(self, env: Any, seed: int) -> None:
        self._low, self._high = env.action_space.low, env.action_space.high
        self._rng = np.random.default_rng(seed)

    def sample_actions(self, obs: Observation) -> np.ndarray:
        if self._low is None:
            raise RuntimeError("RandomPolicy.start_episode(env, seed) must run before sample_actions")
        return self._rng.uniform(self._low, self._high).astype(np.float32)[None, None]  # (1, 1, A)
