"""Success predicates of the primitive subtasks, computed from simulator state only.

Sizes are the episode's (``env.object_slot``), not the catalogue's; a target named by a relation
("highest block", :mod:`hivla.sim.spatial`) is the block it names in the state being checked.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from hivla.sim import catalogue as cat
from hivla.types import Subtask


class SceneQueries(Protocol):
    """What the predicates read of a scene (``TabletopEnv`` provides it)."""

    spec: Any
    button_pressed: bool

    def slot_of(self, name: str) -> str: ...
    def object_slot(self, name: str) -> cat.ObjectSlot: ...
    def object_pos(self, name: str) -> np.ndarray: ...
    def touching_hand(self, name: str) -> bool: ...
    def grasped(self) -> str | None: ...
    def drawer_q(self) -> float: ...


LIFT_HEIGHT = 0.05  # a picked object is held this far above its resting height


def _resting_on(env: SceneQueries, name: str, surface_z: float, tol: float = 0.02) -> bool:
    slot = env.object_slot(name)
    z = env.object_pos(name)[2]
    return bool(abs(z - (surface_z + slot.rest_height)) < tol) and not env.touching_hand(name)


def is_done(env: SceneQueries, sub: Subtask) -> bool:
    """Whether ``sub`` holds in the env's current state."""
    if sub.kind == "pick":
        slot = env.object_slot(sub.obj)
        return env.grasped() == sub.obj and env.object_pos(sub.obj)[2] > slot.rest_height + LIFT_HEIGHT
    if sub.kind == "place":
        recept = env.object_pos(sub.target)
        radius = env.object_slot(sub.target).size[0]
        top = recept[2] + env.object_slot(sub.target).top_height
        inside = np.linalg.norm(env.object_pos(sub.obj)[:2] - recept[:2]) < radius - 0.012
        return bool(inside) and _resting_on(env, sub.obj, top)
    if sub.kind == "stack":
        base = env.object_pos(sub.target)
        base_slot = env.object_slot(sub.target)
        centred = np.linalg.norm(env.object_pos(sub.obj)[:2] - base[:2]) < base_slot.size[0]
        return bool(centred) and _resting_on(env, sub.obj, base[2] + base_slot.size[2], tol=0.012)
    if sub.kind == "push":
        offset = np.abs(env.object_pos(sub.obj)[:2] - np.asarray(env.spec.zone_xy))
        return bool(np.all(offset < cat.ZONE_HALF)) and env.grasped() != sub.obj
    if sub.kind == "open_drawer":
        return env.drawer_q() > cat.DRAWER_OPEN_AT
    if sub.kind == "close_drawer":
        return env.drawer_q() < cat.DRAWER_CLOSED_AT
    if sub.kind == "press_button":
        return env.button_pressed
    raise ValueError(f"unknown subtask kind {sub.kind!r}")
