"""Optional sensors of the tabletop env beyond RGB: depth, world-frame point clouds and touch.

A run asks for them by name (``TabletopEnv(sensors=("depth", "contact"))``, ``hivla collect
--sensors depth,contact``); none are on by default, so a run that does not ask pays nothing.

| sensor  | observation key | value (per step)                                                    |
|---------|-----------------|---------------------------------------------------------------------|
| depth   | ``depth``       | camera -> float32[H, W], metres along each camera's optical axis     |
| points  | ``points``      | camera -> float32[H, W, 3], the world point (metres) each pixel sees |
| contact | ``contact``     | float32[10], :data:`CONTACT_NAMES` (newtons, newton-metres, flags)   |

``depth`` and ``points`` also put ``camera_params``: camera -> {``intrinsics`` float32[3, 3],
``extrinsics`` float32[4, 4] camera-to-world} in the observation (OpenCV camera frame; see
:mod:`hivla.sim.camera_geometry`), so that ``depth_to_points(depth, intrinsics, extrinsics)``
gives the point cloud. Every embodiment carries the same parallel-jaw hand, so ``contact`` reads
the same fingers on each: per finger pad the summed normal force of its contacts and whether it
touches, and the wrench the world exerts on the whole hand (palm and fingers) through contacts,
in the end-effector frame about the grasp point (a wrist force/torque sensor without the hand's own
weight, which is gravity-compensated).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hivla.errors import HivlaError
from hivla.types import CONTACT_NAMES


@dataclass(frozen=True)
class SensorSpec:
    """What ``hivla sim list`` says about a sensor: its observation key, shape and units."""

    name: str
    key: str  # observation key
    shape: str
    units: str
    description: str


SENSORS: dict[str, SensorSpec] = {
    s.name: s
    for s in (
        SensorSpec("depth", "depth", "camera -> float32[H, W]", "metres",
                   "per-camera depth along the optical axis (MuJoCo depth renderer)"),
        SensorSpec("points", "points", "camera -> float32[H, W, 3]", "metres (world frame)",
                   "per-camera point cloud back-projected from depth with camera_params"),
        SensorSpec("contact", "contact", "float32[10]", "N, N m, 0/1",
                   "fingertip normal forces and touch flags, contact wrench on the hand (ee frame)"),
    )
}  # fmt: skip

TOUCH_THRESHOLD = 0.05  # newtons: a finger "touches" above this normal force (``finger_*_touch``)


__all__ = ["CONTACT_NAMES", "SENSORS", "TOUCH_THRESHOLD", "ContactSensor", "SensorError", "parse_sensors"]


class SensorError(HivlaError, ValueError):
    """An unknown sensor name or a sensor the env cannot provide."""


def parse_sensors(sensors: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """``"depth,contact"`` or ``("depth", "contact")`` -> the checked names in :data:`SENSORS` order."""
    if sensors is None:
        return ()
    names = [s.strip() for s in sensors.split(",")] if isinstance(sensors, str) else [str(s) for s in sensors]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in SENSORS]
    if unknown:
        raise SensorError(
            f"unknown sensor(s) {unknown}; available: {', '.join(SENSORS)}. "
            "Pass a comma-separated subset, e.g. --sensors depth,contact"
        )
    return tuple(n for n in SENSORS if n in names)


class ContactSensor:
    """Reads :data:`CONTACT_NAMES` from a model's contacts (``mj_contactForce``); no model change.

    ``fingers``: the (left, right) finger pad geoms; ``hand``: every geom of the hand (palm and
    fingers); ``site``: the end-effector site whose frame and origin the wrench is expressed in.
    """

    def __init__(self, model: mujoco.MjModel, fingers: tuple[int, int], hand: set[int], site: int) -> None:
        self.model, self.fingers, self.hand, self.site = model, fingers, set(hand), site

    def read(self, data: mujoco.MjData) -> np.ndarray:
        """float32[10]: the readings of the current contacts (call after ``mj_forward``)."""
        finger_force = np.zeros(2)
        force, torque = np.zeros(3), np.zeros(3)  # world frame, on the hand
        origin = data.site_xpos[self.site]
        wrench = np.zeros(6)
        for i in range(data.ncon):
            con = data.contact[i]
            g1, g2 = int(con.geom1), int(con.geom2)
            on1, on2 = g1 in self.hand, g2 in self.hand
            if on1 == on2:  # not the hand, or the hand touching itself
                continue
            mujoco.mj_contactForce(self.model, data, i, wrench)  # contact frame; on geom2 from geom1
            frame = con.frame.reshape(3, 3)  # rows: normal, tangent 1, tangent 2 (world)
            sign = 1.0 if on2 else -1.0  # the force on the hand's geom
            f_world = sign * frame.T @ wrench[:3]
            force += f_world
            torque += np.cross(con.pos - origin, f_world) + sign * frame.T @ wrench[3:]
            hand_geom = g2 if on2 else g1
            for k, finger in enumerate(self.fingers):
                if hand_geom == finger:
                    finger_force[k] += wrench[0]
        rot = data.site_xmat[self.site].reshape(3, 3)  # ee frame -> world
        touch = (finger_force > TOUCH_THRESHOLD).astype(np.float64)
        return np.concatenate([finger_force, touch, rot.T @ force, rot.T @ torque]).astype(np.float32)
