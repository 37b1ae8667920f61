"""Cost of the optional sensors per control step, next to RGB only (both cameras, one process).

    python benchmarks/bench_sensors.py [--size 128] [--steps 200] [--embodiment floating]

Prints milliseconds per ``env.step`` (physics, rendering and sensors) for RGB only and for each
sensor set, and each one's ratio to RGB only, measured in the same run (alternating rounds, the
median of three, since the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np

SETS = {
    "rgb": (),
    "rgb+contact": ("contact",),
    "rgb+depth": ("depth",),
    "rgb+depth+points": ("depth", "points"),
    "rgb+depth+points+contact": ("depth", "points", "contact"),
}


def time_steps(env, actions: np.ndarray) -> float:
    env.reset(seed=1_060_000)
    for a in actions[:5]:
        env.step(a)
    start = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset(seed=1_060_000)
    return (time.perf_counter() - start) / len(actions) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--embodiment", default="floating")
    args = ap.parse_args()
    from hivla.sim import make_env

    envs = {
        n: make_env("tabletop-mixed", args.embodiment, image_size=args.size, sensors=s)
        for n, s in SETS.items()
    }
    env0 = envs["rgb"]
    rng = np.random.default_rng(0)
    low, high = env0.action_space.low * 0.3, env0.action_space.high * 0.3
    actions = rng.uniform(low, high, size=(args.steps, env0.embodiment.action_dim)).astype(np.float32)
    rounds: dict[str, list[float]] = {n: [] for n in SETS}
    for _ in range(3):
        for name, env in envs.items():
            rounds[name].append(time_steps(env, actions))
    base = float(np.median(rounds["rgb"]))
    print(f"{args.embodiment}, both cameras at {args.size} px, {args.steps} steps, median of 3 rounds")
    for name in SETS:
        ms = float(np.median(rounds[name]))
        print(f"{name:28s} {ms:7.2f} ms/step  x{ms / base:.2f}")
    for env in envs.values():
        env.close()


if __name__ == "__main__":
    main()
