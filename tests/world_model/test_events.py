"""Event labels from the simulator: clean expert steps, a dive into the table, a drop."""

import numpy as np
import pytest

from hivla.sim import SUITES, ScriptedExpert, make_env
from hivla.world_model.events import EVENT_NAMES, EventTracker, _allowed_bodies, snapshot


@pytest.fixture(scope="module")
def env():
    e = make_env("tabletop-chain-2", render=False)
    yield e
    e.close()


def _pick_seed(env):
    for seed in SUITES.get("tabletop-chain-2").train_seeds:
        env.reset(seed=seed)
        if env.spec.subtasks[0].kind == "pick":
            return seed
    raise AssertionError("no chain starting with pick")


def test_the_expert_picks_without_violations(env):
    seed = _pick_seed(env)
    obs, info = env.reset(seed=seed)
    expert, tracker = ScriptedExpert(env), EventTracker()
    tracker.start(env)
    while info["completed"] < 1 and env.steps < 80:
        obs, *_, info = env.step(expert.act(obs, info)[0])
        tracker.step(env)
    assert info["completed"] == 1
    assert tracker.violation_steps == 0 and tracker.counts["subtask_done"] == 1


def test_diving_into_the_table_is_a_table_contact(env):
    env.reset(seed=_pick_seed(env))
    tracker = EventTracker()
    tracker.start(env)
    down = env.from_universal(np.array([0, 0, -0.03, 0, 0, 0, -1], np.float32))
    flags = [tracker.step(env) for _ in range(12) if env.step(down)]
    assert tracker.counts["table_contact"] > 0
    assert np.stack(flags).shape == (12, len(EVENT_NAMES))


def test_opening_the_gripper_mid_air_is_a_drop(env):
    obs, info = env.reset(seed=_pick_seed(env))
    expert = ScriptedExpert(env)
    while snapshot(env).grasped is None and env.steps < 80:
        obs, *_, info = env.step(expert.act(obs, info)[0])
    assert snapshot(env).grasped is not None, "the expert never lifted the object"
    tracker = EventTracker()
    tracker.start(env)
    release = env.from_universal(np.array([0, 0, 0, 0, 0, 0, -1], np.float32))
    for _ in range(6):
        env.step(release)
        tracker.step(env)
    assert tracker.counts["drop"] == 1


def test_a_stack_on_the_block_named_by_height_has_no_violations():
    """The block "the highest block" names is the stack's target: touching it is no collision and
    letting go over it is no drop."""
    env = make_env("tabletop-spatial", render=False)
    try:
        for seed in SUITES.get("tabletop-spatial").heldout_seeds[:3]:
            obs, info = env.reset(seed=seed)
            expert, tracker = ScriptedExpert(env), EventTracker()
            tracker.start(env)
            while not info["success"] and env.steps < env.max_steps:
                obs, *_, info = env.step(expert.act(obs, info)[0])
                tracker.step(env)
            assert info["success"] and tracker.violation_steps == 0, (seed, dict(tracker.counts))
            stack = env.spec.subtasks[-1]
            assert env.resolve(stack.target) in _allowed_bodies(env, len(env.spec.subtasks) - 1)
    finally:
        env.close()
