"""Roll out a policy on a suite: episodes in parallel worker processes, summaries by chain length.

Built-in policies here are the scripted expert and a uniform random policy; the evaluation harness
builds on the same episode loop for learned policies.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hivla.registry import Registry

ROLLOUT_POLICIES: Registry[str] = Registry("rollout policy")
ROLLOUT_POLICIES.add("expert", "the scripted expert (privileged state)")
ROLLOUT_POLICIES.add("random", "uniform random native actions")


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
        from hivla.sim import EMBODIMENTS, SUITES, parse_shifts

        SUITES.get(self.suite)
        EMBODIMENTS.get(self.embodiment)
        ROLLOUT_POLICIES.get(self.policy)
        parse_shifts(list(self.shifts))
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes} and {self.workers}")
        if self.split not in ("heldout", "train"):
            raise ValueError(f"split must be 'heldout' or 'train', got {self.split!r}")

    def seeds(self) -> list[int]:
        from hivla.sim import SUITES

        suite = SUITES.get(self.suite)
        pool = suite.heldout_seeds if self.split == "heldout" else suite.train_seeds
        if self.first_seed_index + self.episodes > len(pool):
            raise ValueError(
                f"suite {self.suite} has {len(pool)} {self.split} seeds; asked for {self.episodes}"
            )
        return list(pool[self.first_seed_index : self.first_seed_index + self.episodes])


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
    """One episode of ``policy`` ("expert" or "random") from ``seed``."""
    from hivla.sim.expert import ScriptedExpert

    obs, info = env.reset(seed=seed)
    expert = ScriptedExpert(env) if policy == "expert" else None
    rng = np.random.default_rng(seed)
    frames = []
    while True:
        if keep_frames:
            frames.append(np.concatenate([obs["images"][c] for c in env.cameras], axis=1))
        if expert is not None:
            action, _ = expert.act(obs, info)
        else:
            action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    if keep_frames:
        frames.append(np.concatenate([obs["images"][c] for c in env.cameras], axis=1))
    return EpisodeResult(
        seed, info["chain_length"], info["completed"], info["success"], info["progress"],
        info["step"], info["task_kinds"], info["instruction"], frames,
    )  # fmt: skip


def _worker(cfg: RolloutConfig, seeds: list[int], keep_frames: int, queue) -> None:
    from hivla.sim import make_env
    from hivla.utils.threads import limit_threads

    limit_threads(1)
    env = make_env(
        cfg.suite, cfg.embodiment, image_size=cfg.image_size, shifts=list(cfg.shifts),
        render=cfg.render or keep_frames > 0,
    )  # fmt: skip
    try:
        for i, seed in enumerate(seeds):
            queue.put(run_episode(env, cfg.policy, seed, keep_frames=i < keep_frames))
    finally:
        env.close()


def iter_rollouts(cfg: RolloutConfig, keep_frames: int = 0) -> Iterator[EpisodeResult]:
    """Yield episode results as workers finish them (order not guaranteed). The first
    ``keep_frames`` episodes of worker 0 keep their frames (for videos)."""
    seeds = cfg.seeds()
    if cfg.workers == 1:
        yield from _serial(cfg, seeds, keep_frames)
        return
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    shards = [seeds[i :: cfg.workers] for i in range(cfg.workers)]
    procs = [
        ctx.Process(target=_worker, args=(cfg, shard, keep_frames if i == 0 else 0, queue), daemon=True)
        for i, shard in enumerate(shards)
        if shard
    ]
    for p in procs:
        p.start()
    try:
        for _ in seeds:
            yield _get(queue, procs)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()


def _get(queue, procs) -> EpisodeResult:
    import queue as queue_mod

    while True:
        try:
            return queue.get(timeout=1.0)
        except queue_mod.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"rollout worker exited with code {dead[0].exitcode}") from None


def _serial(cfg: RolloutConfig, seeds: list[int], keep_frames: int) -> Iterator[EpisodeResult]:
    from hivla.sim import make_env

    env = make_env(
        cfg.suite, cfg.embodiment, image_size=cfg.image_size, shifts=list(cfg.shifts),
        render=cfg.render or keep_frames > 0,
    )  # fmt: skip
    try:
        for i, seed in enumerate(seeds):
            yield run_episode(env, cfg.policy, seed, keep_frames=i < keep_frames)
    finally:
        env.close()


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a binomial rate."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def summarize(results: list[EpisodeResult]) -> dict[str, Any]:
    """Success and progress overall and by chain length, with 95% Wilson intervals."""

    def block(rs: list[EpisodeResult]) -> dict[str, Any]:
        wins = sum(r.success for r in rs)
        return {
            "episodes": len(rs),
            "success": wins / len(rs),
            "success_ci95": wilson_interval(wins, len(rs)),
            "progress": float(np.mean([r.progress for r in rs])),
            "mean_completed": float(np.mean([r.completed for r in rs])),
            "mean_steps": float(np.mean([r.steps for r in rs])),
        }

    by_length = {}
    for n in sorted({r.chain_length for r in results}):
        by_length[str(n)] = block([r for r in results if r.chain_length == n])
    return {"overall": block(results), "by_chain_length": by_length}
