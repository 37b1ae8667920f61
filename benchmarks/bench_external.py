"""External benchmarks: the scripted policies' success per MetaWorld MT10 task, and the step cost of
each external suite next to the built-in one, measured in one run.

    hivla sim setup metaworld            # once (a venv for MetaWorld's pinned MuJoCo)
    hivla sim setup libero               # once, optional (~400 MB)
    python benchmarks/bench_external.py --mt10-episodes 100 --steps 100
    python benchmarks/bench_external.py --skip-mt10 --suites tabletop-mixed:arm6 metaworld-mt10:sawyer

Step cost: ms per env step with random native actions at 128 px, both cameras and physics only
(render off), one process each, episodes restarted from held-out seeds; an external suite's time
includes the env worker's pipe round trip. Suites whose benchmark is not set up are listed as such.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np


def step_cost(suite: str, embodiment: str, steps: int, render: bool) -> float:
    """ms per step of ``suite`` with random native actions (30% of the range)."""
    from hivla.sim import get_suite, make_env

    env = make_env(suite, embodiment, image_size=128, render=render)
    seeds = iter(get_suite(suite).heldout_seeds)
    rng = np.random.default_rng(0)
    low, high = env.action_space.low * 0.3, env.action_space.high * 0.3
    env.reset(seed=next(seeds))
    for _ in range(5):  # warm up (renderer, caches)
        env.step(rng.uniform(low, high))
    elapsed = 0.0
    for _ in range(steps):
        action = rng.uniform(low, high)
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        if terminated or truncated:
            env.reset(seed=next(seeds))
    env.close()
    return elapsed / steps * 1000


def mt10_success(episodes: int, workers: int) -> dict:
    """The scripted policies on MT10's held-out seeds (``hivla sim rollout --policy expert``)."""
    from hivla.evaluation.reference import RolloutConfig, iter_rollouts, summarize

    cfg = RolloutConfig(suite="metaworld-mt10", embodiment="sawyer", policy="expert", episodes=episodes,
                        workers=workers)  # fmt: skip
    start = time.perf_counter()
    results = list(iter_rollouts(cfg))
    return {**summarize(results), "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mt10-episodes", type=int, default=100, help="held-out episodes (10 per task at 100)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per suite and mode")
    parser.add_argument("--skip-mt10", action="store_true")
    parser.add_argument(
        "--suites", nargs="+", default=["tabletop-mixed:arm6", "metaworld-mt10:sawyer", "libero-spatial:panda-osc"],
        help="SUITE:EMBODIMENT pairs to time",
    )  # fmt: skip
    args = parser.parse_args()
    from hivla.sim.adapters import BenchmarkUnavailableError

    if not args.skip_mt10:
        out = mt10_success(args.mt10_episodes, args.workers)
        print(
            f"MetaWorld MT10, scripted policies, {args.mt10_episodes} held-out episodes ({out['seconds']:.0f} s)\n"
        )
        print("| task | episodes | success | 95% CI |\n|---|---|---|---|")
        for task, b in out["by_task"].items():
            lo, hi = b["success_ci95"]
            print(f"| {task} | {b['episodes']} | {b['success']:.0%} | [{lo:.0%}, {hi:.0%}] |")
        b = out["overall"]
        print(
            f"| **all** | {b['episodes']} | {b['success']:.1%} | [{b['success_ci95'][0]:.1%}, {b['success_ci95'][1]:.1%}] |\n"
        )
    print("| suite | embodiment | ms/step, 2 cameras @ 128 px | ms/step, physics only |\n|---|---|---|---|")
    base = None
    for item in args.suites:
        suite, embodiment = item.split(":")
        try:
            rendered = step_cost(suite, embodiment, args.steps, render=True)
            physics = step_cost(suite, embodiment, args.steps, render=False)
        except BenchmarkUnavailableError as exc:
            print(f"| {suite} | {embodiment} | not set up: {str(exc).split('.')[0]} | |")
            continue
        base = base or rendered
        print(f"| {suite} | {embodiment} | {rendered:.1f} ({rendered / base:.1f}x) | {physics:.1f} |")


if __name__ == "__main__":
    main()
