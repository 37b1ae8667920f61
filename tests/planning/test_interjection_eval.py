"""Interjections through the evaluation harness: a hierarchical policy replans, the record shows it."""

import pytest

from hivla.evaluation import EvalConfig, evaluate, render_report
from hivla.planning import OraclePlanner
from hivla.planning.hierarchical import HierarchicalPolicy
from hivla.planning.skills import SubtaskExpertPolicy
from hivla.policies import InterjectionError

NEW_TASK = "put the yellow cube in the red bowl"  # the first held-out chain-2 scene has both


def test_interjection_changes_the_plan_and_is_recorded(planner):
    policy = HierarchicalPolicy(planner, SubtaskExpertPolicy())
    cfg = EvalConfig(suite="tabletop-chain-2", episodes=1, videos=1, interjections=(f"15:{NEW_TASK}",))
    results = evaluate(cfg, policy=policy)
    event = results.episodes[0].interjections[0]
    assert event["step"] == 15 and event["delivered"] and event["plan_changed"]
    assert event["plan_before"] == ["pick up the yellow cube", "stack the yellow cube on the blue cube"]
    assert event["plan_after"] == ["pick up the yellow cube", "place the yellow cube in the red bowl"]
    assert ("interjection", NEW_TASK) in policy.history
    assert policy.plans[0] != policy.plans[-1] == event["plan_after"]
    html = render_report([results])
    assert f"interjection at step 15: “{NEW_TASK}” (plan changed)" in html
    assert "success is still judged by the env&#x27;s own task" in html


def test_interjection_after_the_episode_is_recorded_as_not_given():
    policy = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy())
    cfg = EvalConfig(
        suite="tabletop-single", episodes=1, videos=0, max_steps=5, interjections=("50:open the drawer",)
    )
    record = evaluate(cfg, policy=policy).episodes[0]
    assert record.interjections == [{"step": 50, "text": "open the drawer", "delivered": False}]


def test_policies_without_interject_fail_before_any_rollout():
    cfg = EvalConfig(policy="expert", episodes=1, videos=0, interjections=("3:open the drawer",))
    with pytest.raises(InterjectionError, match=r"'expert' cannot take interjections.*hierarchical"):
        evaluate(cfg)
