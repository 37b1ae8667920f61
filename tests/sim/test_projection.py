"""env.project: a world point's image position in each camera, checked against MuJoCo's segmentation."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from hivla.sim import make_env
from hivla.types import CAMERAS


def test_object_centres_project_onto_their_own_pixels() -> None:
    env = make_env("tabletop-single", "floating", image_size=96)
    seg = mujoco.Renderer(env.model, 96, 96)
    seg.enable_segmentation_rendering()
    hits = total = 0
    for seed in range(4):
        env.reset(seed=seed)
        for obj in env.spec.objects:
            geoms = {int(g) for g in env.slot_geoms[env.slot_of(obj.name)]}
            uv = env.project(env.object_pos(obj.name))
            assert uv.shape == (len(CAMERAS), 3) and np.all(np.abs(uv[:, :2]) <= 1.0)
            for i, cam in enumerate(CAMERAS):
                if not uv[i, 2]:
                    continue
                seg.update_scene(env.data, cam)
                ids = seg.render()[..., 0]  # (H, W) geom id per pixel
                col, row = (np.round((uv[i, :2] + 1.0) / 2.0 * 96 - 0.5)).astype(int)
                total += 1
                hits += int(ids[row, col]) in geoms
    assert total > 20 and hits >= 0.9 * total, (hits, total)  # misses: an object hidden behind another


def test_points_behind_or_beside_a_camera_are_not_visible() -> None:
    env = make_env("tabletop-single", "floating", image_size=64, render=False)
    env.reset(seed=0)
    front = CAMERAS.index("front")
    cam = env.model.camera("front").id
    looking_away = env.data.cam_xmat[cam].reshape(3, 3)[:, 2]  # cameras look along their -z axis
    behind = env.data.cam_xpos[cam] + looking_away  # 1 m behind the camera
    assert env.project(behind)[front, 2] == 0.0
    assert env.project(np.array([0.0, 5.0, 0.0]))[front, 2] == 0.0  # far off to the side
    with pytest.raises(ValueError, match="finite world point"):
        env.project(np.array([np.nan, 0.0, 0.0]))
