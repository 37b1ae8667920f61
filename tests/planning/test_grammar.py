import pytest

from hivla.planning.grammar import PlanError, Step, expand_steps, validate_plan
from hivla.types import Plan, Subtask

OBJECTS = {"red cube": "cube", "blue cube": "cube", "green bowl": "bowl", "white cylinder": "cylinder"}


def plan(*subs: Subtask) -> Plan:
    return Plan("x", subs)


def test_expand_steps_adds_the_pick_before_a_place():
    subs = expand_steps([Step("place", "red cube", "green bowl"), Step("press_button")])
    assert [s.kind for s in subs] == ["pick", "place", "press_button"]
    assert subs[1].text == "place the red cube in the green bowl"
    validate_plan(Plan("x", tuple(subs)), OBJECTS)


@pytest.mark.parametrize(
    ("subs", "message"),
    [
        ((), "empty plan"),
        ((Subtask("fly", "red cube"),), "unknown kind 'fly'"),
        ((Subtask("pick"),), "needs an object"),
        ((Subtask("place", "red cube", "green bowl"),), "must follow 'pick red cube'"),
        ((Subtask("pick", "purple cube"),), "no object named 'purple cube'"),
        ((Subtask("pick", "green bowl"),), "only cubes and cylinders move"),
        ((Subtask("pick", "red cube"), Subtask("stack", "red cube", "green bowl")), "needs a cube"),
        ((Subtask("pick", "red cube"), Subtask("place", "red cube", "blue cube")), "bowl or plate"),
        ((Subtask("pick", "red cube"), Subtask("press_button")), "still holds"),
    ],
)
def test_invalid_plans_are_rejected_with_a_reason(subs, message):
    with pytest.raises(PlanError, match=message):
        validate_plan(plan(*subs), OBJECTS)
