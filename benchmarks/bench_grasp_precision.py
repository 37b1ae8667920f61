"""How precisely a pick closes: the hand's horizontal distance from the object at the first close
command of each held-out ``tabletop-single`` pick episode, and how precise a grasp has to be.

With a policy run it rolls the policy out (its own chunk execution, the safety filter on) and
prints that distance per episode and its median. With ``--expert-offsets`` it has the scripted
expert aim every grasp a fixed distance off the object, in a random direction, and prints the
share of pick episodes it still solves: the precision a policy needs.

python benchmarks/bench_grasp_precision.py RUN [--episodes 50]
python benchmarks/bench_grasp_precision.py --expert-offsets 0 1 2 [--episodes 200]
"""

from __future__ import annotations

import argparse

import numpy as np

from hivla.evaluation.agent import Agent, Execution
from hivla.policies import load_rollout_policy
from hivla.sim import ScriptedExpert, make_env
from hivla.sim.episode import sample_episode
from hivla.sim.suites import SUITES

SUITE, EMBODIMENT, MAX_STEPS = "tabletop-single", "floating", 90


def pick_seeds(count: int) -> list[int]:
    """The held-out seeds among the first ``count`` whose task is a pick (from the sampled episode
    specs: no physics, no rendering)."""
    suite = SUITES.get(SUITE)
    opts = suite.sampling_options()
    return [s for s in suite.heldout_seeds[:count] if sample_episode(s, opts).subtasks[0].kind == "pick"]


def first_close_distances(run: str, episodes: int) -> list[tuple[int, str, float | None, bool]]:
    """(seed, object, distance in m at the first close command or None, success) per pick episode."""
    policy = load_rollout_policy(run)
    env = make_env(SUITE, EMBODIMENT, image_size=policy.image_size or 64, max_steps=MAX_STEPS)
    agent = Agent(policy, env, Execution(execute_steps=policy.execute_steps))
    rows = []
    try:
        for seed in pick_seeds(episodes):
            obs, info = env.reset(seed=seed)
            agent.start(seed)
            name = env.spec.subtasks[0].obj
            distance = None
            while True:
                action = agent.act(obs)
                if distance is None and action[-1] > 0:  # the gripper command closes
                    gap = env.object_pos(name)[:2] - env.embodiment.ee_pos()[:2]
                    distance = float(np.linalg.norm(gap))
                obs, _, terminated, truncated, info = env.step(action)
                if terminated or truncated or agent.stopped:
                    break
            rows.append((seed, name, distance, bool(info["success"])))
    finally:
        env.close()
    return rows


class OffsetExpert(ScriptedExpert):
    """The scripted expert, aiming each grasp ``offset`` metres off the object (new direction per plan)."""

    def __init__(self, env, offset: float, seed: int) -> None:
        self.offset, self.rng = offset, np.random.default_rng(seed)
        super().__init__(env)

    def _pick_phases(self, name, sub):
        phases = super()._pick_phases(name, sub)
        angle = self.rng.uniform(0.0, 2.0 * np.pi)
        shift = self.offset * np.array([np.cos(angle), np.sin(angle), 0.0])
        for phase in phases:
            if phase.name in ("move above", "descend", "close"):
                phase.goal = lambda goal=phase.goal: goal() + shift
        return phases


def expert_success(offset: float, episodes: int) -> tuple[int, int]:
    """(solved, pick episodes) for the expert aiming ``offset`` metres off."""
    env = make_env(SUITE, EMBODIMENT, render=False, max_steps=MAX_STEPS)
    solved = total = 0
    try:
        for seed in pick_seeds(episodes):
            obs, info = env.reset(seed=seed)
            expert = OffsetExpert(env, offset, seed)
            while True:
                obs, _, terminated, truncated, info = env.step(expert.act(obs, info)[0])
                if terminated or truncated:
                    break
            solved, total = solved + bool(info["success"]), total + 1
    finally:
        env.close()
    return solved, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", nargs="?", help="policy run or checkpoint directory")
    parser.add_argument("--episodes", type=int, default=50, help="held-out seeds to scan for picks")
    parser.add_argument("--expert-offsets", type=float, nargs="*", default=None, help="grasp offsets (cm)")
    args = parser.parse_args()
    if args.expert_offsets is not None:
        for cm in args.expert_offsets:
            solved, total = expert_success(cm / 100.0, args.episodes)
            print(f"expert aiming {cm:.1f} cm off: {solved}/{total} pick episodes solved")
        return
    if not args.run:
        parser.error("give a policy run directory, or --expert-offsets")
    rows = first_close_distances(args.run, args.episodes)
    for seed, name, distance, success in rows:
        shown = "never closed" if distance is None else f"{100 * distance:5.1f} cm"
        print(f"seed {seed}  {name:16s} first close {shown}  {'success' if success else 'failure'}")
    closed = np.array([d for _, _, d, _ in rows if d is not None])
    print(
        f"{len(rows)} pick episodes, {len(closed)} closed: median {100 * np.median(closed):.1f} cm; "
        f"under 1 cm {np.mean(closed < 0.01):.0%}, under 1.5 cm {np.mean(closed < 0.015):.0%}, "
        f"over 3 cm {np.mean(closed > 0.03):.0%}; solved {sum(r[3] for r in rows)}/{len(rows)}"
    )


if __name__ == "__main__":
    main()
