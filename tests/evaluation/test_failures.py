import pytest

from hivla.evaluation.failures import FAILURE_CATEGORIES, FailureTracker, StepFacts
from hivla.types import Subtask

PICK = Subtask("pick", "red cube", text="pick up the red cube")
PLACE = Subtask("place", "red cube", "bowl", text="put the red cube in the bowl")
DRAWER = Subtask("open_drawer", text="open the drawer")


def attribute(subtasks, facts, success=False, safety_stop=False):
    tracker = FailureTracker(subtasks)
    for f in facts:
        tracker.observe(StepFacts(*f))
    return tracker.attribute(success, safety_stop), tracker.failed_subtask


def test_categories_are_the_documented_six():
    assert set(FAILURE_CATEGORIES) == {
        "never_grasped", "wrong_object", "dropped", "timeout", "wrong_order", "safety_stop",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([(0, None)] * 5, "never_grasped"),
        ([(0, None), (0, "blue cube"), (0, None)], "wrong_object"),
        ([(0, None), (0, "red cube"), (0, "red cube"), (0, None)], "dropped"),
        ([(0, None), (0, "red cube"), (0, "red cube")], "timeout"),  # held but never lifted
        ([(0, None), (0, None, True)], "wrong_order"),
    ],
)
def test_each_category_from_its_facts(facts, expected):
    category, failed = attribute([PICK, PLACE], facts)
    assert category == expected and failed == PICK


def test_success_and_safety_stop():
    assert attribute([PICK], [(0, None), (1, "red cube")], success=True)[0] is None
    assert attribute([PICK], [(0, "blue cube")], safety_stop=True)[0] == "safety_stop"


def test_only_the_failed_subtask_counts():
    """A wrong grasp during the (completed) pick is forgiven; the place then drops the cube."""
    facts = [(0, None), (0, "blue cube"), (0, "red cube"), (1, "red cube"), (1, "red cube"), (1, None)]
    category, failed = attribute([PICK, PLACE], facts)
    assert category == "dropped" and failed == PLACE


def test_place_started_while_holding_is_not_never_grasped():
    category, _ = attribute([PICK, PLACE], [(0, None), (1, "red cube"), (1, "red cube")])
    assert category == "timeout"


def test_non_grasp_subtask_times_out_or_grabs_the_wrong_thing():
    assert attribute([DRAWER], [(0, None)] * 3)[0] == "timeout"
    assert attribute([DRAWER], [(0, None), (0, "red cube")])[0] == "wrong_object"


def test_tracker_needs_subtasks():
    with pytest.raises(ValueError, match="subtasks"):
        FailureTracker([])
