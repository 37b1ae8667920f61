"""The task grammar planners must speak: subtask kinds, their arguments, and plan validation.

A *step* is what an instruction phrase names ("put the red cube in the bowl"); it expands into one
or two subtasks (pick, then place). Plans are validated against the grammar and, when known, the
scene's objects (name -> shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hivla.sim.language import canonical_text
from hivla.sim.spatial import is_relation
from hivla.types import Plan, Subtask

SUBTASK_KINDS = ("pick", "place", "stack", "push", "open_drawer", "close_drawer", "press_button")
STEP_KINDS = SUBTASK_KINDS  # a "place"/"stack" step expands to pick + place/stack
NEEDS_OBJECT = {"pick", "place", "stack", "push"}
NEEDS_TARGET = {"place", "stack"}
GRASPABLE = {"cube", "cylinder"}
RECEPTACLES = {"bowl", "plate"}
STACK_BASES = {"cube", "block"}  # a block: a platform of a spatial scene, also named by height


class PlanError(ValueError):
    """A plan that does not follow the task grammar or does not fit the scene."""


@dataclass(frozen=True)
class Step:
    kind: str
    obj: str | None = None
    target: str | None = None


def expand_steps(steps: list[Step], preps: dict[str, str] | None = None) -> list[Subtask]:
    """Steps -> subtasks with canonical texts (a place/stack step becomes pick + place/stack)."""
    out: list[Subtask] = []
    for step in steps:
        target = "square" if step.kind == "push" else step.target
        if step.kind in NEEDS_TARGET:
            out.append(_subtask("pick", step.obj, None, preps))
        out.append(_subtask(step.kind, step.obj, target, preps))
    return out


def _subtask(kind: str, obj: str | None, target: str | None, preps: dict[str, str] | None) -> Subtask:
    sub = Subtask(kind, obj, target)
    prep = (preps or {}).get(target or "", "in" if (target or "").endswith("bowl") else "on")
    return Subtask(kind, obj, target, canonical_text(sub, prep))


def validate_plan(plan: Plan, objects: dict[str, str] | None = None) -> Plan:
    """Check kinds, arguments, object names (against ``objects``: name -> shape) and that each
    place/stack follows a pick of the same object. Returns the plan; raises PlanError."""
    if not plan.subtasks:
        raise PlanError(f"empty plan for {plan.instruction!r}; expected 1 or more subtasks")
    holding: str | None = None
    for i, sub in enumerate(plan.subtasks):
        where = f"subtask {i} ({sub.kind} {sub.obj or ''} {sub.target or ''})".replace("  ", " ")
        if sub.kind not in SUBTASK_KINDS:
            raise PlanError(f"{where}: unknown kind {sub.kind!r}; expected one of {', '.join(SUBTASK_KINDS)}")
        if sub.kind in NEEDS_OBJECT and not sub.obj:
            raise PlanError(f"{where}: {sub.kind} needs an object")
        if sub.kind in NEEDS_TARGET and not sub.target:
            raise PlanError(f"{where}: {sub.kind} needs a target")
        if objects is not None:
            _check_names(sub, objects, where)
        if sub.kind in ("place", "stack") and holding != sub.obj:
            raise PlanError(f"{where}: {sub.kind} of {sub.obj!r} must follow 'pick {sub.obj}'")
        if sub.kind != "pick" and holding is not None and sub.kind not in ("place", "stack"):
            raise PlanError(f"{where}: the hand still holds {holding!r}; place or stack it first")
        holding = sub.obj if sub.kind == "pick" else None
    return plan


def _check_names(sub: Subtask, objects: dict[str, str], where: str) -> None:
    for role, name in (("object", sub.obj), ("target", sub.target)):
        if name is None or (sub.kind == "push" and role == "target"):
            continue
        if role == "target" and is_relation(name):  # "highest block": the scene must have blocks
            if sub.kind != "stack" or "block" not in objects.values():
                raise PlanError(
                    f"{where}: {name!r} names a block by height; only a stack on a scene's blocks can"
                )
            continue
        if name not in objects:
            raise PlanError(f"{where}: no {role} named {name!r} in the scene; objects: {sorted(objects)}")
    if sub.obj and sub.kind in NEEDS_OBJECT and objects[sub.obj] not in GRASPABLE:
        raise PlanError(f"{where}: {sub.obj!r} is a {objects[sub.obj]}; only cubes and cylinders move")
    target = "block" if is_relation(sub.target) else objects.get(sub.target or "")
    if sub.kind == "place" and target not in RECEPTACLES:
        raise PlanError(f"{where}: place needs a bowl or plate, got a {target}")
    if sub.kind == "stack" and target not in STACK_BASES:
        raise PlanError(f"{where}: stack needs a cube or block to stack on, got a {target}")


_TEXT_PATTERNS = (
    (re.compile(r"^pick up the (?P<obj>.+)$"), "pick"),
    (re.compile(r"^place the (?P<obj>.+?) (?:in|on) the (?P<target>.+)$"), "place"),
    (re.compile(r"^stack the (?P<obj>.+?) on the (?P<target>.+)$"), "stack"),
    (re.compile(r"^push the (?P<obj>.+) into the square$"), "push"),
    (re.compile(r"^open the drawer$"), "open_drawer"),
    (re.compile(r"^close the drawer$"), "close_drawer"),
    (re.compile(r"^press the button$"), "press_button"),
)


def parse_subtask_text(text: str) -> Subtask:
    """A canonical subtask text (as in ``info['subtasks']``) -> Subtask. Raises PlanError."""
    clean = text.strip().lower().rstrip(".")
    for pattern, kind in _TEXT_PATTERNS:
        m = pattern.match(clean)
        if m:
            groups = m.groupdict()
            target = "square" if kind == "push" else groups.get("target")
            return Subtask(kind, groups.get("obj"), target, clean)
    raise PlanError(f"not a canonical subtask text: {text!r}; expected e.g. 'pick up the red cube'")
