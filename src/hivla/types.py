"""Shared data shapes and key names. Every module speaks these.

Observation (what an env returns and a policy consumes, unbatched)::

    {"images": {camera: uint8[H, W, 3]},     # cameras: "front" (third person), "wrist"
     "depth": {camera: float32[H, W]},       # optional sensors (hivla.sim.sensors): metres
     "points": {camera: float32[H, W, 3]},   #   world-frame point per pixel, metres
     "camera_params": {camera: {"intrinsics": float32[3, 3], "extrinsics": float32[4, 4]}},
     "contact": float32[10],                 #   finger forces (N), touch flags, hand wrench
     "state": float32[S],                    # proprioception, embodiment-specific S
     "instruction": str}

Universal action (every embodiment maps to and from it), float32[7]::

    [dx, dy, dz, drx, dry, drz, gripper]     # metres / radians per control step in the world
                                             # frame; gripper in [-1, 1], +1 closes

A body with a wheeled base (``Embodiment.has_base``, e.g. ``mobile``) takes float32[10]: the seven
end-effector values, then the base part::

    [..., base_vx, base_vy, base_wz]         # the base's motion per control step in the world
                                             # frame: metres along world x and y, radians about z

The end-effector part is the hand's motion in the world, whatever moves it (arm or base): a mobile
body told to move its base and keep its hand still holds the hand where it is. A fixed-base body given
10 values drops the base part; a mobile body given 7 keeps its base still
(:func:`universal_for_body`).

Training batch (dataset loader -> policy), LeRobot naming::

    "observation.images.<cam>": float32[B, T, 3, H, W] in [0, 1]
    "observation.state":        float32[B, T, S]
    "action":                   float32[B, H, A]      # a chunk of H future actions
    "action_is_pad":            bool[B, H]            # True past the episode end
    "task": list[str]                                 # instruction text
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

CAMERAS: tuple[str, ...] = ("front", "wrist")
# The touch readings of ``obs["contact"]`` (hivla.sim.sensors): newtons, 0/1 flags, newton-metres.
CONTACT_NAMES: tuple[str, ...] = (
    "finger_left_force",  # N: summed normal force on the left finger pad
    "finger_right_force",  # N
    "finger_left_touch",  # 1 when the left finger's normal force exceeds the touch threshold, else 0
    "finger_right_touch",
    "wrench_fx",  # N: contact force on the hand, end-effector frame
    "wrench_fy",
    "wrench_fz",
    "wrench_tx",  # N m: contact torque on the hand about the grasp point, end-effector frame
    "wrench_ty",
    "wrench_tz",
)
UNIVERSAL_ACTION_DIM = 7
UNIVERSAL_ACTION_NAMES: tuple[str, ...] = ("dx", "dy", "dz", "drx", "dry", "drz", "gripper")
# The base part of a mobile body's universal action (metres, radians per control step, world frame).
BASE_ACTION_NAMES: tuple[str, ...] = ("base_vx", "base_vy", "base_wz")
MOBILE_UNIVERSAL_ACTION_DIM = UNIVERSAL_ACTION_DIM + len(BASE_ACTION_NAMES)
UNIVERSAL_ACTION_DIMS: tuple[int, ...] = (UNIVERSAL_ACTION_DIM, MOBILE_UNIVERSAL_ACTION_DIM)
# The part of the state every embodiment starts with (hand position and rotation in the world, the
# gripper's opening): what a policy reading the shared proprioception sees of any body.
SHARED_STATE_NAMES: tuple[str, ...] = (
    "ee_x", "ee_y", "ee_z", *(f"ee_rot{i}" for i in range(6)), "gripper_width",
)  # fmt: skip

Observation = dict[str, Any]


@dataclass(frozen=True)
class Subtask:
    """One primitive step of a task chain, e.g. ``Subtask("pick", "red cube")``."""

    kind: str  # pick | place | stack | push | open_drawer | close_drawer | press_button
    obj: str | None = None  # the object acted on (None for the button/drawer which name themselves)
    target: str | None = None  # receptacle, base object or region
    text: str = ""  # the subtask in words

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "obj": self.obj, "target": self.target, "text": self.text}


@dataclass(frozen=True)
class Plan:
    """An ordered list of subtasks for one instruction."""

    instruction: str
    subtasks: tuple[Subtask, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Annotation:
    """The scripted expert's ground-truth reasoning for one step (what later issues train on)."""

    subtask: str  # current subtask in words
    target: str  # target object name
    relative: str  # where the target is relative to the gripper, in words
    primitive: str  # motion primitive, e.g. "move left and down"
    gripper: str  # "open" | "close" | "hold"
    position: tuple[float, float, float] | None = None  # the target's world position (for image labels)

    def text(self) -> str:
        return (
            f"subtask: {self.subtask}; target: {self.target} is {self.relative}; "
            f"move: {self.primitive}; gripper: {self.gripper}"
        )


OFFSET_WORDS = (("forward", "back"), ("left", "right"), ("above", "below"))  # (+, -) per world axis
MOTION_WORDS = (("forward", "back"), ("left", "right"), ("up", "down"))


def describe_offset(rel: np.ndarray) -> str:
    """'12 cm forward, 3 cm left, 10 cm below' (world frame: +x forward, +y left, +z up)."""
    words = []
    for value, (pos, neg) in zip(rel, OFFSET_WORDS, strict=True):
        cm = round(float(value) * 100)
        if cm != 0:
            words.append(f"{abs(cm)} cm {pos if cm > 0 else neg}")
    return ", ".join(words) if words else "at the gripper"


def describe_motion(delta: np.ndarray, phase: str) -> str:
    """'descend: move forward and down' from a translation command."""
    parts = []
    for value, (pos, neg) in zip(delta, MOTION_WORDS, strict=True):
        if abs(value) > 0.004:
            parts.append(pos if value > 0 else neg)
    motion = "move " + " and ".join(parts) if parts else "hold still"
    return f"{phase}: {motion}"


def universal_action_names(has_base: bool = False) -> tuple[str, ...]:
    """The names of a body's universal action: 7 end-effector values, then 3 base values with a base."""
    return (*UNIVERSAL_ACTION_NAMES, *BASE_ACTION_NAMES) if has_base else UNIVERSAL_ACTION_NAMES


def check_universal_action(action: np.ndarray) -> np.ndarray:
    """Validate a universal action; return it as float32[7] or float32[10] (with the base part).
    Raises ValueError on bad input."""
    a = np.asarray(action, dtype=np.float32)
    if a.ndim != 1 or a.shape[0] not in UNIVERSAL_ACTION_DIMS:
        raise ValueError(
            f"universal action must have shape ({UNIVERSAL_ACTION_DIM},) or ({MOBILE_UNIVERSAL_ACTION_DIM},) "
            f"(with the base part {list(BASE_ACTION_NAMES)}), got {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"universal action contains NaN or inf: {a.tolist()}")
    return a


def universal_for_body(action: np.ndarray, has_base: bool) -> np.ndarray:
    """A checked universal action float32[7 | 10] in the width of a body: a fixed-base body drops the
    base part, a mobile body given 7 values gets a still base (zeros)."""
    a = check_universal_action(action)
    if not has_base:
        return a[:UNIVERSAL_ACTION_DIM]
    if a.shape[0] == UNIVERSAL_ACTION_DIM:
        return np.concatenate([a, np.zeros(len(BASE_ACTION_NAMES), np.float32)])
    return a
