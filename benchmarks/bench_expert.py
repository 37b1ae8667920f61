"""Scripted-expert success on held-out seeds, for every suite x embodiment (physics only, no rendering).

python benchmarks/bench_expert.py --episodes 200 --workers 2
python benchmarks/bench_expert.py --episodes 50 --suites tabletop-spatial --shift size=3   # under a shift
"""

from __future__ import annotations

import argparse
import collections
import time

from hivla.evaluation.reference import RolloutConfig, iter_rollouts, summarize
from hivla.sim import EMBODIMENTS, SUITES, embodiments_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--suites", nargs="*", default=SUITES.names())
    installed = [e for e in EMBODIMENTS.names() if EMBODIMENTS.get(e).missing() is None]
    parser.add_argument("--embodiments", nargs="*", default=installed)
    parser.add_argument("--shift", nargs="*", default=[], help="shifts as axis=level, e.g. size=2")
    args = parser.parse_args()
    print("| suite | embodiment | episodes | success | 95% CI | progress | failures at | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for suite in args.suites:
        for emb in (e for e in args.embodiments if e in embodiments_of(suite)):  # tabletop-mobile: a base
            start = time.time()
            cfg = RolloutConfig(suite=suite, embodiment=emb, episodes=args.episodes, workers=args.workers,
                                shifts=tuple(args.shift))  # fmt: skip
            results = list(iter_rollouts(cfg))
            s = summarize(results)["overall"]
            fails = collections.Counter(r.task_kinds[r.completed] for r in results if not r.success)
            lo, hi = s["success_ci95"]
            print(
                f"| {suite} | {emb} | {s['episodes']} | {s['success']:.1%} | [{lo:.1%}, {hi:.1%}] | "
                f"{s['progress']:.3f} | {dict(fails) or '-'} | {time.time() - start:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
