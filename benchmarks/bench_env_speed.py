"""Environment throughput for one process: physics only, and with both cameras at 64 and 128 px.

    python benchmarks/bench_env_speed.py [--metaworld]

With --metaworld (pip install metaworld packaging) one MetaWorld task with a 128-px camera is timed
in the same run and the ratio is printed.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np


def time_hivla(render: bool, size: int, steps: int, embodiment: str) -> float:
    from hivla.sim import make_env

    env = make_env("tabletop-mixed", embodiment, image_size=size, render=render)
    rng = np.random.default_rng(0)
    env.reset(seed=1_060_000)
    low, high = env.action_space.low * 0.3, env.action_space.high * 0.3
    actions = rng.uniform(low, high, size=(steps, env.embodiment.action_dim)).astype(np.float32)
    for a in actions[:10]:
        env.step(a)
    start = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset(seed=1_060_000)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed / steps * 1000


def time_metaworld(steps: int) -> float | None:
    try:
        import gymnasium as gym
        import metaworld  # noqa: F401
    except ImportError:
        print("metaworld not installed: pip install metaworld packaging")
        return None
    env = gym.make("Meta-World/MT1", env_name="pick-place-v3", render_mode="rgb_array", width=128, height=128)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        env.step(env.action_space.sample())
        env.render()
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--metaworld", action="store_true")
    args = parser.parse_args()
    print("| embodiment | setting | ms / control step | steps/s |")
    print("|---|---|---|---|")
    ours = None
    for emb in ("floating", "arm6", "arm5"):
        for label, render, size in (("physics only", False, 128), ("2 cameras @ 64 px", True, 64),
                                    ("2 cameras @ 128 px", True, 128)):  # fmt: skip
            ms = time_hivla(render, size, args.steps, emb)
            if emb == "arm6" and size == 128 and render:
                ours = ms
            print(f"| {emb} | {label} | {ms:.2f} | {1000 / ms:.0f} |", flush=True)
    if args.metaworld:
        mw = time_metaworld(args.steps)
        if mw is not None and ours is not None:
            print(f"| metaworld pick-place-v3 | 1 camera @ 128 px | {mw:.2f} | {1000 / mw:.0f} |")
            print(f"\nratio (MetaWorld 1 camera / hivla arm6 2 cameras, per step): {mw / ours:.2f}x")


if __name__ == "__main__":
    main()
