import numpy as np
import pytest

from hivla.evaluation import EvalConfig, evaluate
from hivla.planning import OraclePlanner
from hivla.planning.grammar import PlanError, parse_subtask_text
from hivla.planning.hierarchical import HierarchicalPolicy
from hivla.planning.skills import SubtaskExpertPolicy
from hivla.sim import make_env
from hivla.types import Plan, Subtask


def test_parse_subtask_text_round_trips_env_subtasks():
    env = make_env("tabletop-chain-5", "floating", render=False)
    try:
        for seed in range(50_000, 50_010):
            env.reset(seed=seed)
            for sub in env.spec.subtasks:
                parsed = parse_subtask_text(sub.text)
                assert (parsed.kind, parsed.obj, parsed.target) == (sub.kind, sub.obj, sub.target)
    finally:
        env.close()
    with pytest.raises(PlanError, match="canonical subtask"):
        parse_subtask_text("dance")


def test_oracle_planner_with_scripted_skills_solves_chains():
    policy = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy())
    results = evaluate(EvalConfig(suite="tabletop-chain-3", episodes=3, videos=0), policy=policy)
    assert results.metrics["overall"]["success"] >= 2 / 3


class _ListPlanner:
    """Plans by looking the instruction up; records each call."""

    def __init__(self, plans: dict[str, Plan]) -> None:
        self.plans, self.calls = plans, []

    def plan(self, obs, instruction, objects=None):
        self.calls.append(instruction)
        return self.plans[instruction]


def test_interjection_replans_from_the_current_state():
    env = make_env("tabletop-single", "floating", render=False)
    try:
        obs, _ = env.reset(seed=1_000_000)
        first = Plan("press the button", (Subtask("press_button", text="press the button"),))
        second = Plan("open the drawer", (Subtask("open_drawer", text="open the drawer"),))
        planner = _ListPlanner({first.instruction: first, second.instruction: second})
        policy = HierarchicalPolicy(planner, SubtaskExpertPolicy())
        policy.start_episode(env, 0)
        policy.reset()
        seen = []
        for step in range(6):
            if step == 3:
                policy.interject("open the drawer")
            action = np.asarray(policy.sample_actions({**obs, "instruction": "press the button"}))[0, 0]
            seen.append(policy.plan_subtask)
            obs = env.step(action)[0]
        assert planner.calls == ["press the button", "open the drawer"]
        assert seen[:3] == ["press the button"] * 3 and seen[3:] == ["open the drawer"] * 3
        assert ("interjection", "open the drawer") in policy.history
    finally:
        env.close()


class _RefusingPlanner:
    def plan(self, obs, instruction, objects=None):
        raise PlanError(f"cannot plan {instruction!r}")


class _Echo:
    """Records the language it is given."""

    def __init__(self):
        self.heard = []

    def sample_actions(self, obs):
        self.heard.append(obs["instruction"])
        return np.zeros((1, 1, 5), np.float32)  # (1, H, A)

    def reset(self):
        pass


def test_a_planner_error_hands_the_whole_instruction_to_the_low_level():
    low = _Echo()
    policy = HierarchicalPolicy(_RefusingPlanner(), low)
    results = evaluate(EvalConfig(episodes=1, videos=0, max_steps=3), policy=policy)
    instruction = results.episodes[0].instruction
    assert low.heard == [instruction] * 3
    assert policy.history == [("plan_error", f"cannot plan {instruction!r}")]
    assert policy.plans == [[instruction]]


def test_asking_again_for_the_same_observation_only_resamples_the_low_level():
    """A veto resampling asks twice per observation: the monitor counts the steps once."""
    env = make_env("tabletop-single", "floating", render=False)
    try:
        obs, _ = env.reset(seed=1_000_000)
        policy = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy())
        policy.start_episode(env, 0)
        policy.reset()
        first = np.asarray(policy.sample_actions(obs))
        again = np.asarray(policy.sample_actions(obs))
        assert policy.monitor.steps == policy.execute_steps
        np.testing.assert_allclose(first, again)  # the scripted low level is deterministic
        policy.sample_actions(env.step(first[0, 0])[0])
        assert policy.monitor.steps == 2 * policy.execute_steps
    finally:
        env.close()
