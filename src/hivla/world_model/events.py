"""Safety and outcome events of one control step, read from the simulator's privileged state.

These are the labels the world model's heads learn and the violations the veto experiment counts.
Each event describes the transition from the state before a step to the state after it:

| event            | true when, after the step                                                   |
|------------------|-----------------------------------------------------------------------------|
| ``table_contact``| the hand (palm or a finger) touches the table top                           |
| ``collision``    | the hand touches a body the current subtask does not act on                 |
| ``object_out``   | an object that was inside the workspace box has left it (or fell off)       |
| ``drop``         | the object held in the air before the step is no longer held and was not    |
|                  | put down on the current subtask's target                                    |
| ``subtask_done`` | the current subtask completed at this step (not a violation)                |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hivla.sim.env import TabletopEnv

EVENT_NAMES: tuple[str, ...] = ("table_contact", "collision", "object_out", "drop", "subtask_done")
VIOLATIONS: tuple[str, ...] = ("table_contact", "collision", "object_out", "drop")
OUT_XY_LOW = np.array([-0.32, -0.38])  # the workspace box of hivla.sim.embodiments, in the table plane
OUT_XY_HIGH = np.array([0.44, 0.38])
OUT_Z = -0.03  # below the table top: fell off
DROP_TARGET_MARGIN = 0.01


LIFTED = 0.03  # a held object this far above its resting height is in the air (losing it is a drop)


@dataclass(frozen=True)
class Snapshot:
    """What an event needs from the state before a step."""

    grasped: str | None  # the held object, if it is lifted off its support
    inside: frozenset[str]  # objects inside the workspace box
    subtask_index: int


def _inside(env: TabletopEnv) -> frozenset[str]:
    out = []
    for obj in env.spec.objects:
        p = env.object_pos(obj.name)
        if np.all(p[:2] >= OUT_XY_LOW) and np.all(p[:2] <= OUT_XY_HIGH) and p[2] > OUT_Z:
            out.append(obj.name)
    return frozenset(out)


def _lifted_grasp(env: TabletopEnv) -> str | None:
    name = env.grasped()
    if name is None:
        return None
    rest = env.object_slot(name).rest_height
    return name if env.object_pos(name)[2] > rest + LIFTED else None


def snapshot(env: TabletopEnv) -> Snapshot:
    """Record the state before a step (call after reset and after every step)."""
    return Snapshot(_lifted_grasp(env), _inside(env), int(env.subtask_index))


def _hand_bodies_touched(env: TabletopEnv) -> tuple[bool, set[str]]:
    """(hand touches the table, labels of other bodies the hand touches)."""
    m, d = env.model, env.data
    table = m.geom("table").id
    hand = env.hand_geoms
    touches_table, bodies = False, set()
    for c in d.contact[: d.ncon]:
        g1, g2 = int(c.geom1), int(c.geom2)
        for a, b in ((g1, g2), (g2, g1)):
            if a not in hand or b in hand:
                continue
            if b == table:
                touches_table = True
            elif m.geom_bodyid[b] != 0:
                bodies.add(env.body_label(m.geom_bodyid[b]))
    return touches_table, bodies


def _allowed_bodies(env: TabletopEnv, index: int) -> set[str]:
    """Bodies the hand may touch while doing subtask ``index`` (or leaving the previous one)."""
    subs = env.spec.subtasks
    allowed: set[str] = set()
    for sub in subs[max(0, index - 1) : index + 1]:
        allowed |= {env.resolve(n) for n in (sub.obj, sub.target) if n}  # "highest block": the block
        if sub.kind in ("open_drawer", "close_drawer"):
            allowed.add("drawer")
        if sub.kind == "press_button":
            allowed.add("button")
    return allowed


def _put_down_on_target(env: TabletopEnv, name: str, index: int) -> bool:
    """Whether ``name`` was released over the target of a place/stack subtask acting on it."""
    subs = env.spec.subtasks
    sub = subs[min(index, len(subs) - 1)]
    if sub.kind not in ("place", "stack") or sub.obj != name or not sub.target:
        return False
    radius = env.object_slot(sub.target).size[0] + DROP_TARGET_MARGIN
    return bool(np.linalg.norm(env.object_pos(name)[:2] - env.object_pos(sub.target)[:2]) < radius)


def step_events(env: TabletopEnv, before: Snapshot) -> np.ndarray:
    """float32[len(EVENT_NAMES)] of 0/1 flags for the step that led from ``before`` to now."""
    table, bodies = _hand_bodies_touched(env)
    collision = bool(bodies - _allowed_bodies(env, before.subtask_index))
    out = bool(before.inside - _inside(env))
    held = before.grasped
    drop = (
        held is not None
        and env.grasped() != held
        and not _put_down_on_target(env, held, before.subtask_index)
    )
    done = env.subtask_index > before.subtask_index
    return np.array([table, collision, out, drop, done], dtype=np.float32)


class EventTracker:
    """Counts events over an episode: ``start(env)`` after reset, ``step(env)`` after every step."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(EVENT_NAMES, 0)
        self.violation_steps = 0
        self._before: Snapshot | None = None

    def start(self, env: TabletopEnv) -> None:
        self.counts = dict.fromkeys(EVENT_NAMES, 0)
        self.violation_steps = 0
        self._before = snapshot(env)

    def step(self, env: TabletopEnv) -> np.ndarray:
        if self._before is None:
            raise RuntimeError("EventTracker.start(env) must run after env.reset and before step(env)")
        flags = step_events(env, self._before)
        for name, flag in zip(EVENT_NAMES, flags, strict=True):
            self.counts[name] += int(flag)
        self.violation_steps += int(any(flags[EVENT_NAMES.index(k)] for k in VIOLATIONS))
        self._before = snapshot(env)
        return flags
