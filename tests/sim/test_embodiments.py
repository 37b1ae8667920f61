"""Embodiments with collision geometry (the real robot models): links and fingers touch the table and
the objects, joints stay inside their limits, and a missing extra is a clear error."""

import mujoco
import numpy as np
import pytest

from hivla.sim import EMBODIMENTS, make_env
from hivla.sim import geometry as geo
from hivla.sim import robot_assets as ra

REAL = [e for e in EMBODIMENTS.names() if EMBODIMENTS.get(e).hand_body != "hand"]


def _robot_geoms(env) -> set[int]:
    m = env.model
    root = m.body_rootid[m.body(env.embodiment.hand_body).id]
    return {g for g in range(m.ngeom) if m.body_rootid[m.geom_bodyid[g]] == root and m.geom_contype[g]}


def test_real_robots_are_registered():
    assert {"panda", "ur5"} <= set(REAL)


@pytest.mark.parametrize("emb", REAL)
def test_pressing_down_stops_at_the_table(single_envs, emb):
    """Driving the hand into the table: the robot's geoms touch the table and stay above it."""
    env = single_envs(emb)
    env.reset(seed=0)
    table = env.model.geom("table").id
    down = env.from_universal(np.array([0, 0, -0.03, 0, 0, 0, 1.0], np.float32))
    touched = False
    for _ in range(25):
        env.step(down)
        for c in env.data.contact[: env.data.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            touched |= table in pair and bool(pair & _robot_geoms(env))
    assert touched
    assert env.embodiment.ee_pos()[2] > 0.0  # the fingertips rest on the table, never through it


@pytest.mark.parametrize("emb", REAL)
def test_links_register_contacts_with_objects(single_envs, emb):
    """An object where a link is: the contact is reported (info["privileged"]["contacts"])."""
    env = single_envs(emb)
    env.reset(seed=0)
    name = env.spec.objects[0].name
    link = env.model.body(env.embodiment.hand_body).id
    for _ in range(3):  # a link in the middle of the arm
        link = int(env.model.body_parentid[link])
    label = env.model.body(link).name
    q = env.slot_qpos[env.slot_of(name)]
    env.data.qpos[q : q + 3] = env.data.xpos[link]
    mujoco.mj_forward(env.model, env.data)
    assert any(set(pair) == {name, label} for pair in env.contacts()), env.contacts()


@pytest.mark.parametrize("emb", REAL)
def test_joints_stay_within_limits(single_envs, emb):
    env = single_envs(emb)
    env.reset(seed=1)
    emb_ = env.embodiment
    rng = np.random.default_rng(0)
    for _ in range(40):
        env.step(rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32))
        q = emb_.q()
        assert np.all(q >= emb_.q_low - 0.02) and np.all(q <= emb_.q_high + 0.02), q
        assert -2e-3 <= emb_.gripper_width() <= 2 * emb_.finger_open + 2e-3  # soft limits give a little


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setattr(ra, "ROBOTS_PACKAGE", "hivla_no_such_robot_package")
    ra.panda_mjcf.cache_clear()
    try:
        assert "hivla[robots]" in (EMBODIMENTS.get("panda").missing() or "")
        with pytest.raises(ra.RobotAssetsMissingError, match=r"pip install 'hivla\[robots\]'"):
            make_env("tabletop-single", "panda", render=False)
    finally:
        ra.panda_mjcf.cache_clear()


def test_ur5_missing_extra_names_it(monkeypatch):
    monkeypatch.setattr(ra, "UR5_DISTRIBUTION", "hivla-no-such-robot-data")
    ra.ur5_mjcf.cache_clear()
    try:
        reason = EMBODIMENTS.get("ur5").missing() or ""
        assert "hivla-no-such-robot-data" in reason and "pip install -e '.[robots]'" in reason
        with pytest.raises(ra.RobotAssetsMissingError, match=r"pip install 'hivla\[robots\]'"):
            make_env("tabletop-single", "ur5", render=False)
    finally:
        ra.ur5_mjcf.cache_clear()


@pytest.mark.parametrize("emb", REAL)
def test_yaw_room_follows_the_wrist_joint(single_envs, emb):
    """yaw_room() is the last joint's room to its limits, signed as the hand's yaw turns with it."""
    env = single_envs(emb)
    env.reset(seed=0)
    e = env.embodiment
    down, up = e.yaw_room()
    assert down > 0 and up > 0 and down + up == pytest.approx(e.q_high[-1] - e.q_low[-1])
    yaw0 = geo.yaw_of_tool(e.ee_mat())
    for _ in range(6):  # turn the hand by +0.6 rad: the room upward shrinks by as much
        env.step(env.from_universal(np.array([0, 0, 0, 0, 0, 0.1, -1.0], np.float32)))
    turned = geo.wrap_angle(geo.yaw_of_tool(e.ee_mat()) - yaw0)
    assert turned > 0.4 and e.yaw_room()[1] == pytest.approx(up - turned, abs=0.05)
    assert EMBODIMENTS.get("floating")().yaw_room() == (np.inf, np.inf)
