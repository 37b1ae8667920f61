"""Small rotation helpers (numpy, float64) used by controllers, the expert and predicates."""

from __future__ import annotations

import mujoco
import numpy as np


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    """(w, x, y, z) quaternion -> 3x3 rotation matrix."""
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=np.float64))
    return mat.reshape(3, 3)


def mat_to_quat(mat: np.ndarray) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.asarray(mat, dtype=np.float64).reshape(9))
    return quat


def axis_angle_to_mat(rotvec: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle, radians) -> 3x3 matrix."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, rotvec / angle, angle)
    return quat_to_mat(quat)


def mat_to_axis_angle(mat: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix -> rotation vector (axis * angle)."""
    quat = mat_to_quat(mat)
    vel = np.zeros(3)
    mujoco.mju_quat2Vel(vel, quat, 1.0)
    return vel


def rot_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# The gripper's "pointing down" orientation: tool z axis along world -z, fingers along world y.
R_DOWN = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


def orientation_error(current: np.ndarray, desired: np.ndarray) -> np.ndarray:
    """World-frame rotation vector taking ``current`` to ``desired`` (both 3x3)."""
    return mat_to_axis_angle(desired @ current.T)


def yaw_of_tool(mat: np.ndarray) -> float:
    """Yaw of a downward-pointing tool frame: the angle of its x axis in the world xy plane."""
    return float(np.arctan2(mat[1, 0], mat[0, 0]))


def wrap_angle(angle: float, period: float = 2 * np.pi) -> float:
    """Wrap to [-period/2, period/2)."""
    return float((angle + period / 2) % period - period / 2)
