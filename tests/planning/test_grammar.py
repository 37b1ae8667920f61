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


SPATIAL = {"red cube": "cube", "blue block": "block", "green block": "block", "white block": "block"}


def test_a_block_named_by_height_parses_and_validates():
    from hivla.planning.grammar import parse_subtask_text

    sub = parse_subtask_text("Stack the red cube on the highest block.")
    assert (sub.kind, sub.obj, sub.target) == ("stack", "red cube", "highest block")
    subs = expand_steps([Step("stack", "red cube", "lowest block")])
    assert [s.text for s in subs] == ["pick up the red cube", "stack the red cube on the lowest block"]
    validate_plan(Plan("x", tuple(subs)), SPATIAL)
    validate_plan(plan(Subtask("pick", "red cube"), Subtask("stack", "red cube", "blue block")), SPATIAL)
    with pytest.raises(PlanError, match="names a block by height"):
        validate_plan(Plan("x", tuple(subs)), OBJECTS)  # a scene without blocks
    with pytest.raises(PlanError, match="names a block by height"):
        validate_plan(
            plan(Subtask("pick", "red cube"), Subtask("place", "red cube", "highest block")), SPATIAL
        )
    with pytest.raises(PlanError, match="only cubes and cylinders move"):
        validate_plan(plan(Subtask("pick", "blue block")), SPATIAL)
