"""Controlled distribution shifts: named axes with severity levels 0 (none) to 3.

Each axis says what it changes. Sampling-side axes adjust ``SamplingOptions`` (what is on the table
and what is said); render-side axes change the compiled model's lights, materials and camera at
reset, never object poses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import mujoco
import numpy as np

from hivla.registry import Registry
from hivla.sim import catalogue as cat
from hivla.sim.episode import SamplingOptions

MAX_LEVEL = 3


@dataclass(frozen=True)
class ShiftAxis:
    name: str
    changes: str  # what the axis claims to change, for `hivla sim list` and the docs
    side: str  # "render" (pixels only) or "sampling" (what is placed or said)


SHIFT_AXES: Registry[ShiftAxis] = Registry("shift axis")
for _axis in (
    ShiftAxis("lighting", "light intensity, direction and colour", "render"),
    ShiftAxis("table", "table texture and colour", "render"),
    ShiftAxis("camera", "front camera pose", "render"),
    ShiftAxis(
        "object_colour", "object colours, using colours never seen in training (and their names)", "sampling"
    ),
    ShiftAxis("distractors", "adds 1-3 objects that no subtask mentions", "sampling"),
    ShiftAxis("placement", "widens the range objects are placed in", "sampling"),
    ShiftAxis("paraphrase", "uses the held-out instruction paraphrases", "sampling"),
    ShiftAxis("combination", "uses only object/receptacle pairs never seen in training", "sampling"),
    ShiftAxis(
        "size",
        "object sizes: cubes and cylinders grow by 10% per level, blocks' heights grow or shrink as much",
        "sampling",
    ),
):
    SHIFT_AXES.add(_axis.name, _axis)


def parse_shifts(items: list[str] | tuple[str, ...] | dict[str, int] | None) -> dict[str, int]:
    """``["lighting=2", "camera=1"]`` or a dict -> validated ``{axis: level}``."""
    if not items:
        return {}
    pairs = items.items() if isinstance(items, dict) else (_split(s) for s in items)
    out: dict[str, int] = {}
    for axis, level in pairs:
        SHIFT_AXES.get(axis)  # raises with the available names
        if not isinstance(level, int | np.integer) or not 0 <= int(level) <= MAX_LEVEL:
            raise ValueError(f"shift {axis!r}: level must be an integer 0..{MAX_LEVEL}, got {level!r}")
        if level:
            out[axis] = int(level)
    return out


def _split(item: str) -> tuple[str, int]:
    if "=" not in item:
        raise ValueError(f"shift {item!r}: expected axis=level, e.g. lighting=2")
    axis, level = item.split("=", 1)
    try:
        return axis.strip(), int(level)
    except ValueError:
        raise ValueError(f"shift {item!r}: level must be an integer 0..{MAX_LEVEL}") from None


def sampling_options(base: SamplingOptions, shifts: dict[str, int]) -> SamplingOptions:
    """Apply the sampling-side axes to a suite's options."""
    opts = base
    if level := shifts.get("object_colour", 0):
        # Unseen colours for 1 / 3 / all objects; the scene is sampled first, so poses do not move.
        opts = dataclasses.replace(opts, recolour={1: 1, 2: 3, 3: len(cat.SLOTS)}[level])
    if level := shifts.get("distractors", 0):
        opts = dataclasses.replace(opts, n_distractors=level)
    if level := shifts.get("placement", 0):
        grow = 0.04 * level
        opts = dataclasses.replace(
            opts,
            place_x=(opts.place_x[0] - grow, opts.place_x[1] + grow / 2),
            place_y=(opts.place_y[0] - grow, opts.place_y[1] + grow),
        )
    if shifts.get("paraphrase", 0):
        opts = dataclasses.replace(opts, heldout_paraphrases=True)
    if shifts.get("combination", 0):
        opts = dataclasses.replace(opts, combos="heldout")
    if level := shifts.get("size", 0):
        # Sizes change after the scene is sampled (hivla.sim.spatial): poses and words stay.
        opts = dataclasses.replace(opts, resize=level)
    return opts


# The evaluation levels of the render-side axes (level 0 is the nominal scene). The training pools of
# the re-rendering synthesis (:mod:`hivla.sim.variations`) stay outside them.
LIGHT_SCALE_BY_LEVEL = (1.0, 0.45, 1.6, 0.3)  # times the nominal light and headlight intensity
LIGHT_TINT_BY_LEVEL = ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (1.0, 0.85, 0.6), (0.6, 0.75, 1.2))
LIGHT_TURN_BY_LEVEL = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.5, -0.4, 0.3), (1.0, -0.4, 0.3))  # added to dir
TABLE_BY_LEVEL = ("table_plain", "table_check", "table_grain", "table_noise")  # materials
CAMERA_ORBIT_DEG_PER_LEVEL = 8.0  # the front camera orbits the table centre by this much per level
CAMERA_RAISE_PER_LEVEL = 0.04  # and rises by this many metres per level


class RenderShifter:
    """Remembers the model's nominal lights/materials/camera and applies render-side shifts."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self.light = model.light("key").id
        self.nominal = {
            "diffuse": model.light_diffuse[self.light].copy(),
            "dir": model.light_dir[self.light].copy(),
            "head_diffuse": model.vis.headlight.diffuse.copy(),
            "head_ambient": model.vis.headlight.ambient.copy(),
        }
        self.table = model.geom("table").id
        self.materials = [model.material(n).id for n in TABLE_BY_LEVEL]
        self.cam = model.camera("front").id
        self.cam_pos = model.cam_pos[self.cam].copy()
        self.cam_quat = model.cam_quat[self.cam].copy()

    def apply(self, shifts: dict[str, int]) -> None:
        m, n = self.model, self.nominal
        light = shifts.get("lighting", 0)
        scale, tint = LIGHT_SCALE_BY_LEVEL[light], np.array(LIGHT_TINT_BY_LEVEL[light])
        m.light_diffuse[self.light] = np.clip(n["diffuse"] * scale * tint, 0, 1)
        direction = n["dir"] + np.array(LIGHT_TURN_BY_LEVEL[light])
        m.light_dir[self.light] = direction / np.linalg.norm(direction)
        m.vis.headlight.diffuse[:] = np.clip(n["head_diffuse"] * scale * tint, 0, 1)
        m.vis.headlight.ambient[:] = np.clip(n["head_ambient"] * scale, 0, 1)
        m.geom_matid[self.table] = self.materials[shifts.get("table", 0)]
        level = shifts.get("camera", 0)
        self.place_camera(CAMERA_ORBIT_DEG_PER_LEVEL * level, CAMERA_RAISE_PER_LEVEL * level)

    def place_camera(self, orbit_deg: float, raise_m: float) -> None:
        """Orbit the front camera around the table centre by ``orbit_deg`` from its nominal pose,
        raise it by ``raise_m`` metres, and aim it at the table centre again."""
        m = self.model
        if orbit_deg == 0.0 and raise_m == 0.0:
            m.cam_pos[self.cam], m.cam_quat[self.cam] = self.cam_pos, self.cam_quat
            return
        angle = np.deg2rad(orbit_deg)
        c, s = np.cos(angle), np.sin(angle)
        pos = self.cam_pos.copy()
        pos[:2] = [c * pos[0] - s * pos[1], s * pos[0] + c * pos[1]]
        pos[2] += raise_m
        look = np.array([-0.05, 0.0, 0.0]) - pos
        z = -look / np.linalg.norm(look)
        x = np.cross([0.0, 0.0, 1.0], z)
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, np.stack([x, y, z], axis=1).ravel())
        m.cam_pos[self.cam], m.cam_quat[self.cam] = pos, quat
