"""The object catalogue: a fixed pool of object slots compiled into every scene model.

A scene activates a subset of the slots per episode (colours, which slots, poses); unused slots are
parked out of sight with collisions off. One compiled model per embodiment keeps resets cheap (no
recompilation, no new GL context).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ObjectSlot:
    """One object in the pool. ``size``: half extents (box), (radius, half height) (cylinder) or
    (radius, wall height) (bowl/plate)."""

    slot: str  # MuJoCo body name
    shape: str  # cube | cylinder | bowl | plate
    size: tuple[float, ...]
    mass: float

    @property
    def graspable(self) -> bool:
        return self.shape in ("cube", "cylinder")

    @property
    def receptacle(self) -> bool:
        return self.shape in ("bowl", "plate")

    @property
    def rest_height(self) -> float:
        """Height of the body origin above the table when resting upright."""
        if self.shape == "cube":
            return self.size[2]
        if self.shape == "cylinder":
            return self.size[1]
        return 0.0

    @property
    def top_height(self) -> float:
        """Height of the surface an object lands on (cube top, bowl floor, plate top)."""
        if self.shape == "cube":
            return 2 * self.size[2]
        if self.shape == "cylinder":
            return 2 * self.size[1]
        if self.shape == "bowl":
            return 0.008
        return 0.01

    @property
    def footprint(self) -> float:
        """Radius of a disc that covers the object on the table."""
        if self.shape == "cube":
            return float(np.hypot(self.size[0], self.size[1]))
        return self.size[0]

    def resized(self, size: tuple[float, ...]) -> ObjectSlot:
        """This slot with another ``size`` (same meaning per shape) and the mass of the same density."""
        if len(size) != len(self.size) or min(size) <= 0:
            raise ValueError(f"{self.slot}: a {self.shape} needs {len(self.size)} positive sizes, got {size}")
        scale = float(np.prod(np.divide(size, self.size)))
        if self.shape == "cylinder":  # (radius, half height): the radius counts twice in the volume
            scale *= size[0] / self.size[0]
        return replace(self, size=tuple(float(v) for v in size), mass=self.mass * scale)


SLOTS: tuple[ObjectSlot, ...] = (
    ObjectSlot("cube_0", "cube", (0.02, 0.02, 0.02), 0.05),
    ObjectSlot("cube_1", "cube", (0.02, 0.02, 0.02), 0.05),
    ObjectSlot("cube_2", "cube", (0.023, 0.023, 0.023), 0.06),
    ObjectSlot("cube_3", "cube", (0.025, 0.025, 0.025), 0.07),
    ObjectSlot("cube_4", "cube", (0.018, 0.018, 0.018), 0.04),
    ObjectSlot("cylinder_0", "cylinder", (0.019, 0.025), 0.05),
    ObjectSlot("cylinder_1", "cylinder", (0.021, 0.028), 0.05),
    ObjectSlot("cylinder_2", "cylinder", (0.018, 0.022), 0.04),
    ObjectSlot("bowl_0", "bowl", (0.07, 0.035), 0.4),
    ObjectSlot("plate_0", "plate", (0.07, 0.01), 0.4),
)
SLOT_BY_NAME = {s.slot: s for s in SLOTS}

# Colours seen in training suites, and colours only the object-colour shift uses.
TRAIN_COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.12),
    "green": (0.15, 0.7, 0.2),
    "blue": (0.15, 0.3, 0.85),
    "yellow": (0.92, 0.82, 0.1),
    "white": (0.92, 0.92, 0.92),
    "black": (0.12, 0.12, 0.12),
}
HELDOUT_COLOURS: dict[str, tuple[float, float, float]] = {
    "purple": (0.55, 0.2, 0.75),
    "orange": (0.95, 0.5, 0.1),
    "pink": (0.95, 0.55, 0.75),
    "cyan": (0.1, 0.8, 0.85),
    "brown": (0.5, 0.3, 0.12),
    "grey": (0.5, 0.5, 0.5),
}
ALL_COLOURS = {**TRAIN_COLOURS, **HELDOUT_COLOURS}

# Fixed articulated items (body positions on the table, metres).
DRAWER_POS = (0.30, -0.22)
DRAWER_TRAVEL = 0.12
DRAWER_OPEN_AT = 0.08
DRAWER_CLOSED_AT = 0.015
BUTTON_POS = (0.26, 0.24)
BUTTON_TRAVEL = 0.012
ZONE_HALF = 0.05

# Where objects are placed (training range); the placement shift widens it.
PLACE_X = (-0.16, 0.14)
PLACE_Y = (-0.2, 0.2)

# Blocks: cube slots resized into platforms of different heights (``PlacedObject.noun == "block"``),
# which the spatial suites refer to by height ("the highest block"). They are never moved by a task.
BLOCK_NOUN = "block"
BLOCK_HALF_XY = 0.025  # half width of a block's top face
BLOCK_TOP_RANGE = (0.03, 0.09)  # heights of block tops in training scenes (m)
BLOCK_MIN_GAP = 0.02  # block tops in one scene differ by at least this much (m)
N_BLOCKS = 3
