"""Pinhole camera geometry in pure NumPy: intrinsics, extrinsics and depth -> world points.

Conventions (OpenCV's): the camera frame has x to the right of the image, y down the image and z
forward along the optical axis; pixel (row i, column j) has its centre at image coordinates
(u, v) = (j, i). Depth is the distance along the optical axis (z), in metres, as MuJoCo's depth
renderer returns it. Extrinsics are camera-to-world transforms, float[4, 4].
"""

from __future__ import annotations

import numpy as np

# MuJoCo's camera frame (x right, y up, looking along -z) -> OpenCV's (x right, y down, z forward).
MUJOCO_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


def intrinsics(fovy_degrees: float, height: int, width: int) -> np.ndarray:
    """The pinhole matrix K float32[3, 3] of a camera with vertical field of view ``fovy_degrees``
    rendering ``height`` x ``width`` square pixels (MuJoCo's model: fovy sets the focal length)."""
    if not 0.0 < fovy_degrees < 180.0 or height < 1 or width < 1:
        raise ValueError(
            f"need 0 < fovy < 180 degrees and a positive size, got {fovy_degrees}, {height}x{width}"
        )
    f = (height / 2.0) / np.tan(np.radians(fovy_degrees) / 2.0)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]], np.float32)


def extrinsics(position: np.ndarray, mujoco_xmat: np.ndarray) -> np.ndarray:
    """Camera-to-world float32[4, 4] (OpenCV camera frame) of a MuJoCo camera at world ``position``
    float[3] whose frame has world orientation ``mujoco_xmat`` float[9] or float[3, 3]."""
    rot = np.asarray(mujoco_xmat, np.float64).reshape(3, 3) @ MUJOCO_TO_OPENCV
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rot, np.asarray(position, np.float64)
    return out.astype(np.float32)


def depth_to_points(depth: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray) -> np.ndarray:
    """Back-project a depth image into world points.

    Args:
        depth: float[H, W], metres along the optical axis.
        intrinsics: float[3, 3] pinhole matrix K.
        extrinsics: float[4, 4] camera-to-world transform (OpenCV camera frame).

    Returns:
        float32[H, W, 3]: the world point each pixel sees (an organised point cloud).
    """
    depth = np.asarray(depth, np.float64)
    k, pose = np.asarray(intrinsics, np.float64), np.asarray(extrinsics, np.float64)
    if depth.ndim != 2 or k.shape != (3, 3) or pose.shape != (4, 4):
        raise ValueError(
            f"need depth float[H, W], intrinsics float[3, 3], extrinsics float[4, 4]; got {depth.shape}, "
            f"{k.shape}, {pose.shape}"
        )
    h, w = depth.shape
    x = ((np.arange(w) - k[0, 2]) / k[0, 0])[None, :] * depth  # (H, W) camera frame
    y = ((np.arange(h) - k[1, 2]) / k[1, 1])[:, None] * depth  # (H, W)
    rot = pose[:3, :3]
    # camera -> world as broadcast sums (no BLAS call: a threaded BLAS on many tiny products is slow)
    world = np.stack(
        [x * r[0] + y * r[1] + depth * r[2] + t for r, t in zip(rot, pose[:3, 3], strict=True)], -1
    )
    return world.astype(np.float32)


def points_to_pixels(points: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray) -> np.ndarray:
    """Project world points float[N, 3] into the image: float64[N, 3] of (u, v, depth), u along
    the columns and v down the rows (pixel centres at integers), depth in metres (<= 0: behind)."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    pose = np.asarray(extrinsics, np.float64)
    cam = (pts - pose[:3, 3]) @ pose[:3, :3]  # (N, 3): world -> camera (rotation transposed)
    k = np.asarray(intrinsics, np.float64)
    z = cam[:, 2]
    safe = np.where(np.abs(z) < 1e-12, 1e-12, z)
    u = k[0, 0] * cam[:, 0] / safe + k[0, 2]
    v = k[1, 1] * cam[:, 1] / safe + k[1, 2]
    return np.stack([u, v, z], axis=-1)
