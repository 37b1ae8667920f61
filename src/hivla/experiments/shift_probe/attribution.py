"""Which part of the stack a failed episode went wrong in, by two methods (pure functions of records).

Parts, in stack order: ``planning`` (the plan and the subtask the policy is on: planner and
monitor), ``reasoning`` (the trace's target and phase), ``perception`` (where the trace puts the
target: its offset from the gripper) and ``control`` (what is left: all of the above right, yet the
subtask failed). The *first* part that went wrong is the upstream-most one.

- :func:`diagnose`: from the per-query log of the failed subtask (the policy's plan and trace beside
  the oracle plan and the expert's annotation of the same state), the upstream-most part wrong at
  a given share of the queries where it could be checked.
- :func:`substitution`: from re-runs of the same seed with oracle parts (plan; trace target and
  phase; whole trace; plan and trace), the first part whose oracle recovers the episode. It names
  the part whose fix suffices: when a later part is broken too (a wrong plan and a low level that
  cannot grasp), no oracle recovers the episode and it says control where the diagnosis says
  planning. The two methods disagree exactly there.

A part the policy does not have (no planner, no trace) cannot be checked: the answer then lists
every category it may be (``candidates``) and names no single ``part``. A policy without a trace
that locates its target (``localize``) still has its perception checked: where it located the
target against where the expert's target projects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hivla.evaluation.stats import rate
from hivla.policies.vla.reasoning import OFFSET_BINS, parse_reasoning

PARTS = ("planning", "reasoning", "perception")  # stack order; control is what is left
CATEGORIES = ("perception", "reasoning", "planning", "control")  # the table's columns
# substitution variant that replaces each part by its oracle, in stack order
SUBSTITUTIONS = (
    ("planning", "oracle_plan"),
    ("reasoning", "oracle_reasoning"),
    ("perception", "oracle_trace"),
)
BOTH = "oracle_all"  # oracle plan and monitor, and the expert's whole trace


def _binned(cm: float) -> int:
    """The trace's offset bin nearest ``cm`` (the expert's offset as the policy could write it)."""
    return min(OFFSET_BINS, key=lambda b: abs(b - cm))


def offset_error_cm(trace: str, expert: str) -> float:
    """Distance (cm) between the target offsets of a policy's trace and the expert's, both binned."""
    a, b = parse_reasoning(trace).offset_cm, parse_reasoning(expert).offset_cm
    return math.dist([_binned(v) for v in a], [_binned(v) for v in b])


def located_error(
    looking_at: dict[str, Sequence[float]], target_uv: dict[str, Sequence[float]]
) -> float | None:
    """Mean distance (image units, -1..1 across) between where the policy located its target and where
    the expert's target projects, over the cameras that see it; None when none does."""
    errors = [
        math.dist(looking_at[c][:2], uv[:2]) for c, uv in target_uv.items() if c in looking_at and uv[2] > 0
    ]
    return sum(errors) / len(errors) if errors else None


def wrong_parts(
    query: dict[str, Any], oracle_plan: Sequence[str], threshold_cm: float, threshold_uv: float = 0.25
) -> dict[str, bool | None]:
    """For one query: is each part wrong (True), right (False) or not checkable (None: no plan/trace)?

    ``query`` holds ``plan`` (texts or None), ``plan_subtask``, ``env_subtask``, ``trace`` and
    ``expert`` (reasoning strings, the expert's for the subtask the policy is on); without a trace,
    ``looking_at`` and ``target_uv`` (where the policy located its target and where the expert's
    target projects, per camera) check perception alone, ``threshold_uv`` apart."""
    out: dict[str, bool | None] = {}
    plan = query.get("plan")
    out["planning"] = (
        None
        if plan is None
        else (list(plan) != list(oracle_plan) or query.get("plan_subtask") != query.get("env_subtask"))
    )
    trace, expert = query.get("trace"), query.get("expert")
    if trace is None or expert is None:
        out["reasoning"] = out["perception"] = None
        looking, target = query.get("looking_at"), query.get("target_uv")
        error = None if looking is None or target is None else located_error(looking, target)
        if error is not None:
            out["perception"] = error > threshold_uv
        return out
    own, truth = parse_reasoning(trace), parse_reasoning(expert)
    out["reasoning"] = own.target != truth.target or own.phase != truth.phase
    # the location of the wrong target is not judged
    out["perception"] = None if out["reasoning"] else offset_error_cm(trace, expert) > threshold_cm
    return out


def _answer(candidates: list[str], why: str, query: int | None = None) -> dict[str, Any]:
    return {"part": candidates[0] if len(candidates) == 1 else None, "candidates": candidates, "why": why,
            "query": query}  # fmt: skip


def diagnose(
    log: dict[str, Any], completed: int, threshold_cm: float, share: float, threshold_uv: float = 0.25
) -> dict[str, Any]:
    """Trace diagnosis of a failed episode from its probe ``log`` (``oracle_plan`` and ``queries``,
    each with the ``completed`` subtask count) and the subtasks it ``completed``. Only the queries of
    the subtask it failed on count; a part is wrong when wrong at ``share`` or more of the queries
    where it could be checked (a brief error the policy recovers from is not the cause), and the
    upstream-most wrong part is named. -> ``{"part", "candidates", "why", "query"}`` (``query``:
    the index, within the failed subtask, of the part's first wrong query)."""
    window = [q for q in log["queries"] if q["completed"] == completed]
    if not window:
        return _answer(list(CATEGORIES), "no query during the failed subtask")
    verdicts = [wrong_parts(q, log["oracle_plan"], threshold_cm, threshold_uv) for q in window]
    unchecked: list[str] = []
    for part in PARTS:
        seen = [v[part] for v in verdicts if v[part] is not None]
        if not seen:
            unchecked.append(part)
            continue
        wrong = sum(seen) / len(seen)
        if wrong >= share:
            first = next(i for i, v in enumerate(verdicts) if v[part])
            why = f"{part} wrong at {sum(seen)} of {len(seen)} queries"
            return _answer([*unchecked, part], why, first)
    return _answer([*unchecked, "control"], "plan and trace right at most queries")


def substitution(recovered: dict[str, bool | None]) -> dict[str, Any]:
    """Oracle-substitution attribution of a failed episode. ``recovered[variant]``: whether the re-run
    with that oracle part succeeded; None when the policy has no such part to replace; a variant left
    out is already the oracle (so not the cause). ``oracle_all`` (plan and trace together) counts
    for planning: fixing the trace alone did not help, so the plan went wrong first.
    -> ``{"part", "candidates", "why", "query"}``."""
    unknown: list[str] = []
    for part, variant in SUBSTITUTIONS:
        if variant not in recovered:
            continue
        if recovered[variant] is None:
            unknown.append(part)
        elif recovered[variant]:
            return _answer([*unknown, part], f"{variant} recovered it")
    if recovered.get(BOTH):  # run only when plan and trace are both replaceable: the plan was wrong first
        return _answer(["planning"], "only the oracle plan and trace together recovered it")
    return _answer([*unknown, "control"], "no substitution recovered it")


def agreement(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """How often the two methods name the same part: ``same`` over the episodes where both name one
    part, and ``consistent`` (their candidate sets share a category) over all episodes; Wilson 95%."""
    named = [(a, b) for a, b in pairs if a["part"] is not None and b["part"] is not None]
    same = sum(a["part"] == b["part"] for a, b in named)
    consistent = sum(bool(set(a["candidates"]) & set(b["candidates"])) for a, b in pairs)
    return {"same": rate(same, len(named)), "consistent": rate(consistent, len(pairs))}


def tally(answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts and Wilson 95% shares of each category among some failures; ``undetermined`` counts the
    failures that name no single part, by their candidate sets."""
    n = len(answers)
    out: dict[str, Any] = {c: rate(sum(a["part"] == c for a in answers), n) for c in CATEGORIES}
    groups: dict[str, int] = {}
    for a in answers:
        if a["part"] is None:
            key = "|".join(a["candidates"])
            groups[key] = groups.get(key, 0) + 1
    out["undetermined"] = {"count": n - sum(out[c]["count"] for c in CATEGORIES), "by_candidates": groups}
    out["failures"] = n
    return out
