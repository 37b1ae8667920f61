"""Sensors beyond RGB: depth and point clouds against known scene positions, contact on every embodiment."""

import numpy as np
import pytest

from hivla.sim import CONTACT_NAMES, EMBODIMENTS, ScriptedExpert, make_env, parse_sensors
from hivla.sim import catalogue as cat
from hivla.sim.camera_geometry import depth_to_points, extrinsics, intrinsics, points_to_pixels
from hivla.sim.sensors import SensorError


def test_depth_to_points_inverts_the_projection():
    rng = np.random.default_rng(0)
    k = intrinsics(60.0, 48, 64)
    angle = rng.uniform(-np.pi, np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    pose = extrinsics(rng.normal(size=3), rot)
    depth = rng.uniform(0.2, 3.0, (48, 64))
    points = depth_to_points(depth, k, pose)  # (48, 64, 3)
    uvz = points_to_pixels(points.reshape(-1, 3), k, pose)
    v, u = np.mgrid[0:48, 0:64]
    np.testing.assert_allclose(uvz[:, 0], u.ravel(), atol=1e-3)
    np.testing.assert_allclose(uvz[:, 1], v.ravel(), atol=1e-3)
    np.testing.assert_allclose(uvz[:, 2], depth.ravel(), rtol=1e-5)
    # The principal pixel looks along the camera's optical axis (MuJoCo's -z).
    centre = depth_to_points(np.ones((3, 3)), intrinsics(60.0, 3, 3), pose)[1, 1]
    np.testing.assert_allclose(centre, pose[:3, 3] - rot[:, 2], atol=1e-6)
    with pytest.raises(ValueError, match="intrinsics"):
        depth_to_points(np.ones((4, 4, 1)), k, pose)


def test_parse_sensors_checks_names():
    assert parse_sensors("contact, depth") == ("depth", "contact")
    assert parse_sensors(None) == () and parse_sensors("") == ()
    with pytest.raises(SensorError, match="available: depth, points, contact"):
        parse_sensors(("depht",))


def test_external_suites_refuse_sensors():
    from hivla.sim.adapters.env import ExternalEnvError

    with pytest.raises(ExternalEnvError, match="drop --sensors"):
        make_env("metaworld-mt10", None, sensors=("contact",))


def test_no_sensors_by_default():
    env = make_env("tabletop-single", "floating", render=False)
    try:
        obs, _ = env.reset(seed=0)
        assert set(obs) == {"images", "state", "instruction"} and env.sensors == ()
        with pytest.raises(SensorError, match="render=False"):
            make_env("tabletop-single", "floating", render=False, sensors="depth")
    finally:
        env.close()


@pytest.mark.parametrize("camera", ["front", "wrist"])
def test_depth_and_points_hit_the_cube_top(camera):
    """The pixel where a cube's top-face centre projects sees a point on that face, at that depth."""
    size = 128
    env = make_env("tabletop-single", "floating", image_size=size, sensors=("depth", "points"))
    try:
        obs, info = env.reset(seed=3)
        for key in ("depth", "points"):
            assert env.observation_space[key].contains(obs[key])
        params = obs["camera_params"][camera]
        checked = 0
        for o in env.spec.objects:
            slot = next(s for s in cat.SLOTS if s.slot == o.slot)
            if slot.shape != "cube":
                continue
            centre = info["privileged"]["object_poses"][o.name][:3]
            top = centre + np.array([0.0, 0.0, slot.size[2]])
            u, v, z = points_to_pixels(top[None], params["intrinsics"], params["extrinsics"])[0]
            i, j = int(round(v)), int(round(u))
            assert 0 <= i < size and 0 <= j < size, f"{o.name} is outside the {camera} image"
            point = obs["points"][camera][i, j]
            assert abs(point[2] - top[2]) < 2e-3  # on the top face's plane (mm)
            pixel = 2 * z * np.tan(np.radians(env.model.cam_fovy[env.model.camera(camera).id]) / 2) / size
            assert np.linalg.norm(point[:2] - top[:2]) < 2 * pixel  # where the face centre is, to a pixel
            assert abs(obs["depth"][camera][i, j] - z) < 2 * pixel + 2e-3
            np.testing.assert_allclose(
                depth_to_points(obs["depth"][camera], params["intrinsics"], params["extrinsics"]),
                obs["points"][camera],
            )
            checked += 1
        assert checked >= 1
    finally:
        env.close()


def _first_pick_seed(env) -> int:
    for seed in range(50):
        _, info = env.reset(seed=seed)
        if info["task_kinds"][0] == "pick":
            return seed
    raise AssertionError("no pick episode among seeds 0..49")


@pytest.mark.parametrize("emb", EMBODIMENTS.names())
def test_contact_fires_when_holding_and_not_in_free_space(emb):
    env = make_env("tabletop-single", emb, render=False, sensors="contact")
    try:
        seed = _first_pick_seed(env)
        obs, info = env.reset(seed=seed)
        assert obs["contact"].shape == (len(CONTACT_NAMES),) and obs["contact"].dtype == np.float32
        np.testing.assert_array_equal(obs["contact"], 0.0)  # open hand at home, in free space
        expert = ScriptedExpert(env)
        expert.reset()
        lifted = False
        for _ in range(120):
            obs, _, done, truncated, info = env.step(expert.act(obs, info)[0])
            if info["privileged"]["grasped"] and env.embodiment.ee_pos()[2] > 0.07:
                lifted = True
                break
            assert not (done or truncated)
        assert lifted, "the expert never lifted the object"
        c = dict(zip(CONTACT_NAMES, obs["contact"], strict=True))
        assert c["finger_left_touch"] == 1.0 and c["finger_right_touch"] == 1.0
        assert c["finger_left_force"] > 1.0 and c["finger_right_force"] > 1.0  # newtons
        assert c["wrench_fz"] > 0.1  # the held object's weight pulls along the tool axis (down)
    finally:
        env.close()
