"""Reference rollouts (``hivla sim rollout``): a built-in policy on a suite, episodes in parallel
worker processes, summaries by chain length.

The policies are the built-ins of :mod:`hivla.policies.builtin` (the scripted expert, uniform random
actions), stepped one action per query in a plain loop with no wrappers: the reference the
evaluation harness (``hivla.evaluation``, which adds chunk execution, the safety filter and failure
attribution for any policy) is checked against. Worker
processes, Wilson intervals and outcome summaries are shared with the harness.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

BUILTIN_POLICIES = ("expert", "random")


@dataclass(frozen=True)
class RolloutConfig:
    suite: str = "tabletop-single"
    embodiment: str = "floating"
    policy: str = "expert"
    episodes: int = 10
    workers: int = 1
    shifts: tuple[str, ...] = ()
    split: str = "heldout"  # heldout | train
    image_size: int = 128
    render: bool = False
    first_seed_index: int = 0

    def __post_init__(self) -> None:
        from hivla.sim import check_embodiment, is_external, parse_shifts

        check_embodiment(self.suite, self.embodiment)
        if self.shifts and is_external(self.suite):
            raise ValueError(f"suite {self.suite} is an external benchmark and takes no shifts; drop --shift")
        if self.policy not in BUILTIN_POLICIES:
            raise ValueError(
                f"policy must be one of {', '.join(BUILTIN_POLICIES)} (the built-ins this plain loop runs), "
                f"got {self.policy!r}; evaluate any other policy with `hivla eval --policy ...`"
            )
        parse_shifts(list(self.shifts))
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes} and {self.workers}")
        if self.split not in ("heldout", "train"):
            raise ValueError(f"split must be 'heldout' or 'train', got {self.split!r}")

    def seeds(self) -> list[int]:
        from hivla.evaluation.config import suite_seeds

        return suite_seeds(self.suite, self.split, self.first_seed_index, self.episodes)


@dataclass
class EpisodeResult:
    seed: int
    chain_length: int
    completed: int
    success: bool
    progress: float
    steps: int
    task_kinds: list[str]
    instruction: str
    frames: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("frames")
        return d


def run_episode(env, policy: str, seed: int, keep_frames: bool = False) -> EpisodeResult:
    """One episode of the built-in ``policy`` ("expert" or "random") from ``seed``."""
    from hivla.policies.specs import load_rollout_policy

    obs, info = env.reset(seed=seed)
    actor = load_rollout_policy(policy)
    actor.start_episode(env, seed)
    actor.reset()
    frames = []
    while True:
        if keep_frames:
            frames.append(np.concatenate([obs["images"][c] for c in env.cameras], axis=1))
        action = actor.sample_actions(obs)[0, 0]  # (1, 1, A) -> (A,)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    if keep_frames:
        frames.append(np.concatenate([obs["images"][c] for c in env.cameras], axis=1))
    return EpisodeResult(
        seed, info["chain_length"], info["completed"], info["success"], info["progress"],
        info["step"], info["task_kinds"], info["instruction"], frames,
    )  # fmt: skip


class _RolloutWorker:
    """Per process: one env; runs episodes given as (seed, keep_frames)."""

    def __init__(self, cfg: RolloutConfig, render: bool) -> None:
        from hivla.sim import make_env

        self.cfg = cfg
        self.env = make_env(
            cfg.suite, cfg.embodiment, image_size=cfg.image_size, shifts=list(cfg.shifts),
            render=cfg.render or render,
        )  # fmt: skip

    def __call__(self, item: tuple[int, bool]) -> EpisodeResult:
        seed, keep = item
        return run_episode(self.env, self.cfg.policy, seed, keep_frames=keep)

    def close(self) -> None:
        self.env.close()


def iter_rollouts(cfg: RolloutConfig, keep_frames: int = 0) -> Iterator[EpisodeResult]:
    """Yield episode results as workers finish them (order not guaranteed). The first
    ``keep_frames`` seeds keep their frames (for videos)."""
    from hivla.utils.pool import run_pool

    items = [(seed, i < keep_frames) for i, seed in enumerate(cfg.seeds())]
    yield from run_pool(partial(_RolloutWorker, cfg, keep_frames > 0), items, cfg.workers)


def summarize(results: list[EpisodeResult]) -> dict[str, Any]:
    """Success and progress overall, by chain length and by task, with 95% Wilson intervals."""
    from hivla.evaluation.metrics import by_chain_length, by_task, outcome_block

    return {
        "overall": outcome_block(results),
        "by_chain_length": by_chain_length(results),
        "by_task": by_task(results),
    }
