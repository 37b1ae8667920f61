"""Episodes per second of one evaluation job on the local process pool and on Ray, 1 and 2 workers,
and Ray's start-up overhead, measured in one run (``hivla.utils.pool``).

    MUJOCO_GL=egl python benchmarks/bench_backends.py --episodes 40

Each row evaluates the same held-out seeds with the same policy (default: the scripted expert,
which renders nothing, so the figures are the pools' overhead plus the simulation); the wall time
includes starting the workers and building their simulators (the local pool spawns its processes
for every job; Ray keeps its worker processes between jobs). The local pool with 1 worker runs in
this process, after an untimed warm-up, with one torch thread like every pool worker. Ray runs on a private instance started here (its ``ray.init`` is timed apart); its
first job pays for its worker processes importing hivla, so the Ray rows are run twice (cold,
then warm). The last line checks that every row gave the same per-seed outcomes.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in every pool worker: one torch/BLAS thread


def run(policy: str, suite: str, episodes: int, workers: int, backend: str) -> tuple[float, float, list]:
    """(wall seconds, seconds to the first finished episode, per-seed outcomes)."""
    from hivla.evaluation import EvalConfig, evaluate

    cfg = EvalConfig(policy=policy, suite=suite, episodes=episodes, workers=workers, backend=backend,
                     image_size=64, videos=0)  # fmt: skip
    finished: list[float] = []
    start = time.perf_counter()
    results = evaluate(cfg, progress=lambda _record: finished.append(time.perf_counter()))
    wall = time.perf_counter() - start
    outcomes = [(e.seed, e.success, e.steps, round(e.progress, 6)) for e in results.episodes]
    return wall, finished[0] - start, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policy", default="expert")
    parser.add_argument("--suite", default="tabletop-single")
    parser.add_argument("--episodes", type=int, default=40)
    args = parser.parse_args()
    from hivla.utils.pool import import_ray

    rows, outcomes = [], []

    def row(label: str, backend: str, workers: int) -> None:
        wall, first, out = run(args.policy, args.suite, args.episodes, workers, backend)
        outcomes.append(out)
        rows.append((label, workers, wall, args.episodes / wall))
        print(f"{label:<12} {workers} workers  {wall:7.2f} s  {args.episodes / wall:6.2f} episodes/s  "
              f"first episode after {first:5.2f} s", flush=True)  # fmt: skip

    print(f"{args.episodes} episodes of {args.policy} on {args.suite} per row; {os.cpu_count()} CPUs")
    run(args.policy, args.suite, 2, 1, "local")  # untimed: this process's imports and first simulator
    row("local", "local", 1)
    row("local", "local", 2)
    start = time.perf_counter()
    ray = import_ray()  # a private instance on this machine, one CPU per core
    init = time.perf_counter() - start
    print(
        f"ray.init (private instance, {int(ray.cluster_resources()['CPU'])} CPUs): {init:.2f} s", flush=True
    )
    row("ray (cold)", "ray", 1)
    row("ray", "ray", 2)
    row("ray (warm)", "ray", 1)
    row("ray (warm)", "ray", 2)
    start = time.perf_counter()
    ray.shutdown()
    print(f"ray.shutdown: {time.perf_counter() - start:.2f} s")
    local2, cold2, warm2 = rows[1][3], rows[3][3], rows[-1][3]
    print(
        f"episodes/s with 2 workers, ray / local: {cold2 / local2:.2f}x (first Ray job), {warm2 / local2:.2f}x (warm)"
    )
    same = all(o == outcomes[0] for o in outcomes)
    print(f"same per-seed outcomes on every row: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
