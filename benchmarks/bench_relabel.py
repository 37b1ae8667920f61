"""The any-state expert (``ScriptedExpert.label``): does it complete the task from states it did not
reach itself? Each held-out episode runs the expert's own plan (``act``) for a random number of steps,
then uniform random actions for a random 3-15 steps (the perturbation), then ``label`` to the end.
``--lead 0 --perturb 0`` runs ``label`` alone from the first step; ``--after act`` continues with the
expert's own plan instead of ``label`` (the reference: how many perturbed scenes an expert that
remembers its plan recovers). Physics only, no rendering.

python benchmarks/bench_relabel.py --episodes 100 --workers 2
"""

from __future__ import annotations

import argparse
import collections
import time
from functools import partial

import numpy as np

from hivla.evaluation.config import suite_seeds
from hivla.evaluation.stats import wilson_interval
from hivla.sim import make_env
from hivla.sim.expert import ScriptedExpert
from hivla.utils.pool import run_pool


class _Worker:
    """Per process: one env; runs one perturbed episode per seed."""

    def __init__(self, suite: str, embodiment: str, max_lead: int, max_perturb: int, after: str) -> None:
        self.env = make_env(suite, embodiment, render=False)
        self.max_lead, self.max_perturb, self.after = max_lead, max_perturb, after

    def __call__(self, seed: int) -> tuple[bool, str | None]:
        env, rng = self.env, np.random.default_rng(seed)  # the perturbation is fixed by the seed
        lead = int(rng.integers(0, self.max_lead + 1))
        perturb = int(rng.integers(3, self.max_perturb + 1)) if self.max_perturb >= 3 else 0
        obs, info = env.reset(seed=seed)
        expert = ScriptedExpert(env)
        for t in range(10_000):
            if t < lead:
                action, _ = expert.act(obs, info)
            elif t < lead + perturb:
                action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
            elif self.after == "act":
                action, _ = expert.act(obs, info)
            else:
                action, _ = expert.label(obs)
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        failed_at = None if info["success"] else info["task_kinds"][info["completed"]]
        return bool(info["success"]), failed_at

    def close(self) -> None:
        self.env.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--suites", nargs="*", default=["tabletop-single", "tabletop-mixed", "tabletop-chain-3"]
    )
    parser.add_argument("--embodiments", nargs="*", default=["floating", "arm6", "arm5"])
    parser.add_argument("--lead", type=int, default=80, help="most steps of the expert's own plan first")
    parser.add_argument("--perturb", type=int, default=15, help="most random steps (3..N); 0: none")
    parser.add_argument(
        "--after", choices=("label", "act"), default="label", help="who acts after the perturbation"
    )
    args = parser.parse_args()
    who = "label()" if args.after == "label" else "act(), the plan it remembers"
    print(
        f"| suite | embodiment | episodes | completed from perturbed states by {who} | 95% CI | failures at | time (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    total = done = 0
    for suite in args.suites:
        for emb in args.embodiments:
            start = time.time()
            seeds = suite_seeds(suite, "heldout", 0, args.episodes)
            worker = partial(_Worker, suite, emb, args.lead, args.perturb, args.after)
            results = list(run_pool(worker, seeds, args.workers))
            ok = sum(s for s, _ in results)
            fails = collections.Counter(k for s, k in results if not s)
            lo, hi = wilson_interval(ok, len(results))
            total, done = total + len(results), done + ok
            print(
                f"| {suite} | {emb} | {len(results)} | {ok / len(results):.1%} | [{lo:.1%}, {hi:.1%}] | "
                f"{dict(fails) or '-'} | {time.time() - start:.0f} |",
                flush=True,
            )
    lo, hi = wilson_interval(done, total)
    print(f"\nall: {done}/{total} = {done / total:.1%} [{lo:.1%}, {hi:.1%}]")


if __name__ == "__main__":
    main()
