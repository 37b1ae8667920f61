"""The trainer's eval hook: any ``EvalFn(policy, step) -> metrics``; by default a few closed-loop
episodes in the built-in simulator (the evaluation harness can be injected in its place)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from hivla.configs.presets import RolloutEvalConfig

EvalFn = Callable[[Any, int], dict[str, float]]


class SimRolloutEval:
    """Closed-loop rollouts of a policy in ``hivla.sim`` (first embodiment the policy knows).

    Universal-action policies are stepped with ``env.step_universal``. RNG is forked, so an eval
    does not change the training run's random stream.
    """

    def __init__(self, cfg: RolloutEvalConfig, embodiment: str | None = None) -> None:
        self.cfg = cfg
        self.embodiment = embodiment
        self._env = None

    def _make_env(self, policy: Any):
        from hivla.errors import HivlaError
        from hivla.sim import check_embodiment, make_env

        emb = self.embodiment or policy.embodiments[0]
        try:
            check_embodiment(self.cfg.suite, emb)
        except HivlaError as exc:
            raise HivlaError(
                f"the in-training rollouts on suite {self.cfg.suite} cannot run the policy's embodiment "
                f"{emb!r} ({exc}); pass `hivla train --eval-suite SUITE` naming a suite of that embodiment, "
                "or --eval-every 0"
            ) from None
        size = max(64, min(224, policy.config.image_size))
        sensors = policy.config.sensors
        return make_env(
            self.cfg.suite, emb, image_size=size, cameras=tuple(policy.config.cameras),
            **({"sensors": sensors} if sensors else {}),
        )  # fmt: skip

    def __call__(self, policy: Any, step: int) -> dict[str, float]:
        from hivla.actions.chunking import ChunkBroker
        from hivla.sim import get_suite

        if self._env is None:
            self._env = self._make_env(policy)
        env, cfg = self._env, self.cfg
        suite = get_suite(cfg.suite)
        seeds = (suite.heldout_seeds if cfg.split == "heldout" else suite.train_seeds)[: cfg.episodes]
        execute = cfg.execute_steps or policy.config.execute_steps or policy.config.horizon
        broker = ChunkBroker(policy, min(execute, policy.config.horizon))
        universal = policy.action_space == "universal"
        successes, progress = [], []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(step)
            for seed in seeds:
                obs, info = env.reset(seed=int(seed))
                broker.reset()
                for _ in range(cfg.max_steps):
                    action = broker.act(obs)
                    obs, _, terminated, truncated, info = (
                        env.step_universal(action) if universal else env.step(action)
                    )
                    if terminated or truncated:
                        break
                successes.append(float(info["success"]))
                progress.append(float(info["progress"]))
        return {"eval/success": float(np.mean(successes)), "eval/progress": float(np.mean(progress))}

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None
