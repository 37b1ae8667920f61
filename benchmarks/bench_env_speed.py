"""Environment throughput for one process: physics only, and with both cameras at 64 and 128 px.

    python benchmarks/bench_env_speed.py [--embodiments floating arm6 arm5 panda] [--metaworld-python PY]
    python benchmarks/bench_env_speed.py --embodiments mobile --suite tabletop-mobile   # the wide scene

With --metaworld-python PY, one MetaWorld task with a 128-px camera is timed in the same run by that
interpreter and the ratio is printed. MetaWorld 3.1.1 pins mujoco 3.3, which conflicts with ours, so
give it a venv of its own:

    python -m venv /tmp/mw && /tmp/mw/bin/pip install metaworld packaging
    python benchmarks/bench_env_speed.py --metaworld-python /tmp/mw/bin/python
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np


def time_hivla(render: bool, size: int, steps: int, embodiment: str, suite: str = "tabletop-mixed") -> float:
    from hivla.sim import get_suite, make_env

    env = make_env(suite, embodiment, image_size=size, render=render)
    seed = get_suite(suite).heldout_seeds[0]
    rng = np.random.default_rng(0)
    env.reset(seed=seed)
    low, high = env.action_space.low * 0.3, env.action_space.high * 0.3
    actions = rng.uniform(low, high, size=(steps, env.embodiment.action_dim)).astype(np.float32)
    for a in actions[:10]:
        env.step(a)
    start = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset(seed=seed)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed / steps * 1000


METAWORLD_TIMER = """
import os, sys, time
os.environ.setdefault("MUJOCO_GL", "egl")
import gymnasium as gym, metaworld
steps = int(sys.argv[1])
env = gym.make("Meta-World/MT1", env_name="pick-place-v3", render_mode="rgb_array", width=128, height=128)
env.reset(seed=0)
for _ in range(10):
    env.step(env.action_space.sample()); env.render()
start = time.perf_counter()
for _ in range(steps):
    env.step(env.action_space.sample()); env.render()
print((time.perf_counter() - start) / steps * 1000)
env.close()
"""


def time_metaworld(python: str, steps: int) -> float:
    """ms per MetaWorld pick-place-v3 step with one 128-px camera, timed by another interpreter."""
    import subprocess

    out = subprocess.run(
        [python, "-c", METAWORLD_TIMER, str(steps)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--metaworld-python", default=None, help="interpreter with metaworld installed")
    parser.add_argument("--embodiments", nargs="*", default=None, help="default: every installed one")
    parser.add_argument(
        "--suite", default="tabletop-mixed", help="tabletop-mobile: the wide scene (a base only)"
    )
    args = parser.parse_args()
    from hivla.sim import EMBODIMENTS, embodiments_of

    installed = [e for e in EMBODIMENTS.names() if EMBODIMENTS.get(e).missing() is None]
    embodiments = [e for e in args.embodiments or installed if e in embodiments_of(args.suite)]
    print("| embodiment | setting | ms / control step | steps/s |")
    print("|---|---|---|---|")
    ours = None
    for emb in embodiments:
        for label, render, size in (("physics only", False, 128), ("2 cameras @ 64 px", True, 64),
                                    ("2 cameras @ 128 px", True, 128)):  # fmt: skip
            ms = time_hivla(render, size, args.steps, emb, args.suite)
            if emb == "arm6" and size == 128 and render:
                ours = ms
            print(f"| {emb} | {label} | {ms:.2f} | {1000 / ms:.0f} |", flush=True)
    if args.metaworld_python:
        mw = time_metaworld(args.metaworld_python, args.steps)
        if ours is not None:
            print(f"| metaworld pick-place-v3 | 1 camera @ 128 px | {mw:.2f} | {1000 / mw:.0f} |")
            print(f"\nratio (MetaWorld 1 camera / hivla arm6 2 cameras, per step): {mw / ours:.2f}x")


if __name__ == "__main__":
    main()
