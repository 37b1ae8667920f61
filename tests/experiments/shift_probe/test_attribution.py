"""The shift probe's attribution on hand-made episode logs and re-run outcomes with known causes."""

from __future__ import annotations

import pytest

from hivla.experiments.shift_probe.attribution import (
    CATEGORIES,
    agreement,
    diagnose,
    located_error,
    offset_error_cm,
    substitution,
    tally,
)

PLAN = ["pick up the red cube", "put the red cube in the bowl"]


def trace(target: str = "red cube", offset: str = "12 cm forward, 3 cm left", phase: str = "descend") -> str:
    return f"subtask: pick up the red cube; target: {target} is {offset}; move: {phase}: move down; gripper: open"


TRUTH = trace()


def query(completed: int = 0, plan=PLAN, current: str | None = None, own: str | None = TRUTH, expert=TRUTH):
    return {"step": 0, "completed": completed, "env_subtask": PLAN[completed], "plan": plan,
            "plan_subtask": PLAN[completed] if current is None and plan is not None else current,
            "trace": own, "expert": expert}  # fmt: skip


def log(*queries):
    return {"oracle_plan": PLAN, "queries": list(queries)}


def run(queries, completed: int = 0, share: float = 0.5, threshold: float = 5.0):
    return diagnose(log(*queries), completed, threshold, share)


@pytest.mark.parametrize(
    ("bad", "part"),
    [
        (query(plan=["pick up the blue cube", *PLAN[1:]]), "planning"),
        (query(current=PLAN[1]), "planning"),  # the monitor moved on too early
        (query(own=trace(target="blue cube")), "reasoning"),
        (query(own=trace(phase="lift")), "reasoning"),
        (query(own=trace(offset="30 cm back")), "perception"),
        (query(), "control"),
    ],
)
def test_diagnosis_names_each_category(bad, part) -> None:
    got = run([query(), bad, bad, bad, query()])
    assert got["part"] == part and got["candidates"] == [part]
    assert got["query"] == (None if part == "control" else 1)  # wrong at 3 of 5 queries, the first at 1


def test_the_upstream_most_wrong_part_is_named() -> None:
    both = query(plan=["pick up the blue cube", *PLAN[1:]], own=trace(target="blue cube"))
    assert run([both] * 3)["part"] == "planning"  # plan and trace wrong together: the plan came first
    wrong_target, wrong_plan = query(own=trace(target="blue cube")), query(plan=PLAN[::-1])
    assert run([wrong_target] * 3 + [wrong_plan] * 3)["part"] == "planning"  # upstream, though later
    assert run([wrong_plan] + [wrong_target] * 3)["part"] == "reasoning"  # the plan wrong at 1 of 4 only
    got = run([query(own=trace(target="blue cube", offset="30 cm back"))] * 3)
    assert got["part"] == "reasoning"  # the wrong target's location is not judged


def test_transient_errors_and_other_subtasks_do_not_count() -> None:
    blip = query(own=trace(phase="lift"))
    assert run([blip, query(), query(), query(), blip])["part"] == "control"  # wrong at 2 of 5 queries
    assert run([blip, blip, blip, query()], share=0.8)["part"] == "control"
    assert run([blip, blip])["part"] == "reasoning"
    earlier = query(completed=0, own=trace(target="blue cube"))
    assert run([earlier] * 3 + [query(completed=1)] * 3, completed=1)["part"] == "control"
    assert run([], completed=1)["candidates"] == list(CATEGORIES)  # no query to judge by


def test_offset_threshold_on_binned_offsets() -> None:
    assert offset_error_cm(trace(offset="41 cm back"), trace(offset="40 cm back")) == 0  # same bin
    assert offset_error_cm(trace(offset="3 cm left"), trace(offset="at the gripper")) == 3
    near = query(own=trace(offset="12 cm forward, 6 cm left"))
    assert run([near] * 3, threshold=5.0)["part"] == "control"  # 3 cm off
    assert run([near] * 3, threshold=2.0)["part"] == "perception"


def test_parts_a_policy_lacks_cannot_be_told_apart() -> None:
    no_trace = query(own=None)
    got = run([no_trace] * 3)
    assert got["part"] is None and got["candidates"] == ["reasoning", "perception", "control"]
    assert run([query(plan=PLAN[::-1], own=None)] * 3)["part"] == "planning"  # the plan is still checked
    flat = query(plan=None, own=trace(target="blue cube"))
    assert run([flat] * 3)["candidates"] == ["planning", "reasoning"]  # no plan: a wrong target may be either
    assert run([query(plan=None, own=None)] * 3)["candidates"] == [
        "planning",
        "reasoning",
        "perception",
        "control",
    ]


def test_a_policy_without_a_trace_that_locates_its_target_has_perception_checked() -> None:
    seen = {"front": [0.1, 0.2, 1.0], "wrist": [0.9, 0.9, 0.0]}  # the wrist camera does not see the target

    def located(uv):
        return query(own=None) | {"looking_at": {"front": uv, "wrist": [-0.9, -0.9]}, "target_uv": seen}

    assert located_error({"front": [0.1, 0.5]}, seen) == pytest.approx(0.3)  # out-of-view cameras ignored
    assert located_error({"front": [0.1, 0.5]}, {"front": [0.0, 0.0, 0.0]}) is None
    off, near = located([0.6, 0.2]), located([0.15, 0.2])
    assert run([off] * 3)["candidates"] == ["reasoning", "perception"]  # wrong place: identity or location
    assert run([near] * 3)["candidates"] == ["reasoning", "control"]  # right place: perception was fine
    assert run([off] * 3, threshold=5.0)["part"] is None
    assert diagnose(log(*[off] * 3), 0, 5.0, 3, threshold_uv=0.6)["candidates"] == ["reasoning", "control"]
    hidden = query(own=None) | {"looking_at": {"front": [0.6, 0.2]}, "target_uv": {"front": [0, 0, 0.0]}}
    assert run([hidden, near, near, near])["candidates"] == ["reasoning", "control"]  # checked when in view


@pytest.mark.parametrize(
    ("recovered", "candidates"),
    [
        (
            {"oracle_plan": True, "oracle_reasoning": True, "oracle_trace": True, "oracle_all": True},
            ["planning"],
        ),
        (
            {"oracle_plan": False, "oracle_reasoning": True, "oracle_trace": True, "oracle_all": True},
            ["reasoning"],
        ),
        (
            {"oracle_plan": False, "oracle_reasoning": False, "oracle_trace": True, "oracle_all": True},
            ["perception"],
        ),
        (
            {"oracle_plan": False, "oracle_reasoning": False, "oracle_trace": False, "oracle_all": True},
            ["planning"],
        ),
        (
            {"oracle_plan": False, "oracle_reasoning": False, "oracle_trace": False, "oracle_all": False},
            ["control"],
        ),
        ({"oracle_reasoning": False, "oracle_trace": True}, ["perception"]),  # the plan is the oracle already
        ({"oracle_plan": False}, ["control"]),  # the trace is the oracle's (an expert low level)
        ({"oracle_plan": None, "oracle_reasoning": True, "oracle_trace": True}, ["planning", "reasoning"]),
        (
            {"oracle_plan": False, "oracle_reasoning": None, "oracle_trace": None},
            ["reasoning", "perception", "control"],
        ),
    ],
)
def test_substitution_names_the_first_part_whose_oracle_recovers(recovered, candidates) -> None:
    got = substitution(recovered)
    assert got["candidates"] == candidates
    assert got["part"] == (candidates[0] if len(candidates) == 1 else None)


def test_agreement_and_tally() -> None:
    a = {"part": "planning", "candidates": ["planning"]}
    b = {"part": "control", "candidates": ["control"]}
    u = {"part": None, "candidates": ["planning", "reasoning"]}
    got = agreement([(a, a), (a, b), (b, b), (u, a), (u, b)])
    assert (got["same"]["count"], got["same"]["n"]) == (2, 3)  # only pairs naming one part each
    assert (got["consistent"]["count"], got["consistent"]["n"]) == (3, 5)
    assert got["same"]["ci95"][0] < 2 / 3 < got["same"]["ci95"][1]
    t = tally([a, a, b, u])
    assert t["planning"]["count"] == 2 and t["planning"]["n"] == 4 and t["control"]["count"] == 1
    assert t["reasoning"]["count"] == 0 and t["failures"] == 4
    assert t["undetermined"] == {"count": 1, "by_candidates": {"planning|reasoning": 1}}
