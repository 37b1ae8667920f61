"""Chains of 1..5 subtasks with a hierarchical stack: success, its Wilson interval and the average
completed length per chain length and embodiment, for each monitor (e.g. the learned one and the
oracle), on the same held-out seeds. Chain length 1 is ``tabletop-single``, N > 1 ``tabletop-chain-N``.
Each cell is one ``hivla eval`` run (its results.json is kept under ``--out``); re-running with the
same ``--out`` reuses the cells already evaluated.

python benchmarks/bench_chains.py --low runs/dagger/round_2/policy --planner learned:runs/planner \
    --monitors runs/monitor oracle --embodiments floating arm6 --episodes 50 --workers 2 --out runs/chains
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hivla.evaluation import EvalConfig, evaluate, write_report


def suite_for(length: int) -> str:
    return "tabletop-single" if length == 1 else f"tabletop-chain-{length}"


def cell(args: argparse.Namespace, monitor: str, embodiment: str, length: int) -> dict:
    name = "oracle" if monitor == "oracle" else Path(monitor).name
    where = Path(args.out) / f"{name}-{embodiment}-chain{length}"
    results = where / "results.json"
    if not results.is_file():
        spec = f"hierarchical:low={args.low},planner={args.planner},monitor={monitor}"
        cfg = EvalConfig(policy=spec, suite=suite_for(length), embodiment=embodiment, episodes=args.episodes,
                         workers=args.workers, videos=1)  # fmt: skip
        start = time.time()
        write_report(evaluate(cfg), where)
        print(f"  {name} {embodiment} chain {length}: {time.time() - start:.0f} s", flush=True)
    saved = json.loads(results.read_text())
    metrics = saved["metrics"]
    overall = metrics["overall"]
    failures = {k: v["count"] for k, v in metrics["failures"].items() if v["count"]}
    return {"success": overall["success"], "ci": overall["success_ci95"], "n": overall["episodes"],
            "wins": round(overall["success"] * overall["episodes"]), "avg_len": metrics["calvin"]["avg_len"],
            "failures": failures, "by_seed": {r["seed"]: bool(r["success"]) for r in saved["episodes"]}}  # fmt: skip


def gap(oracle: dict, learned: dict, length: int) -> str:
    """Oracle minus learned success (points) on the seeds both cells evaluated."""
    seeds = sorted(set(oracle["by_seed"]) & set(learned["by_seed"]))
    if not seeds:
        return f"chain {length} -"
    diff = sum(oracle["by_seed"][s] - learned["by_seed"][s] for s in seeds) / len(seeds)
    return f"chain {length} {100 * diff:+.0f} ({len(seeds)} seeds)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--low", required=True, help="the low-level policy (run directory or built-in)")
    parser.add_argument("--planner", default="oracle", help="oracle | learned:DIR | llm:URL")
    parser.add_argument("--monitors", nargs="+", default=["oracle"], help="monitor directories and/or oracle")
    parser.add_argument("--embodiments", nargs="+", default=["floating"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/chains")
    args = parser.parse_args()
    rows = []
    for monitor in args.monitors:
        for embodiment in args.embodiments:
            for length in args.lengths:
                rows.append((monitor, embodiment, length, cell(args, monitor, embodiment, length)))
    print(f"\nlow level {args.low}, planner {args.planner}, {args.episodes} held-out episodes per cell\n")
    print("| monitor | embodiment | chain | success [95% CI] | avg completed length | failures |")
    print("|---|---|---|---|---|---|")
    for monitor, embodiment, length, c in rows:
        lo, hi = c["ci"]
        fails = ", ".join(f"{k} {v}" for k, v in sorted(c["failures"].items())) or "-"
        print(f"| {monitor} | {embodiment} | {length} | {c['success']:.0%} [{lo:.0%}, {hi:.0%}] ({c['wins']}/{c['n']}) "
              f"| {c['avg_len']:.2f} | {fails} |")  # fmt: skip
    by = {(m, e, n): c for m, e, n, c in rows}
    if len(args.monitors) > 1 and "oracle" in args.monitors:
        print("\nloss against the oracle monitor (points of success on the seeds both ran):")
        for monitor in (m for m in args.monitors if m != "oracle"):
            for embodiment in args.embodiments:
                print(f"  {monitor} / {embodiment}: " + ", ".join(
                    gap(by[("oracle", embodiment, n)], by[(monitor, embodiment, n)], n) for n in args.lengths))  # fmt: skip


if __name__ == "__main__":
    main()
