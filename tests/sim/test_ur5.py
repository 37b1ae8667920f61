"""The UR5 embodiment: its model follows the URDF that example-robot-data ships (joints, limits,
torques, the benchmark's hand on the tool flange) and its native action is a speedL-style velocity in
the UR controller's base frame."""

import re

import mujoco
import numpy as np
import pytest

from hivla.sim import EMBODIMENTS, make_env
from hivla.sim import robot_assets as ra

REASON = EMBODIMENTS.get("ur5").missing()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def env():
    env = make_env("tabletop-single", "ur5", render=False)
    yield env
    env.close()


def _urdf_chain():
    joints, _ = ra.parse_urdf(ra.ur5_urdf())
    return [j for j in joints.values() if j.kind == "revolute"]


def test_joints_limits_and_torques_are_the_urdfs(env):
    m, chain = env.model, _urdf_chain()
    assert [j.name for j in chain] == ["shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint",
                                       "wrist_1_joint", "wrist_2_joint", "wrist_3_joint"]  # fmt: skip
    for name, joint in zip(env.embodiment.joint_names, chain, strict=True):
        assert m.jnt_range[m.joint(name).id] == pytest.approx([joint.lower, joint.upper])
        assert m.actuator_forcerange[m.actuator(name).id] == pytest.approx([-joint.effort, joint.effort])
        assert m.actuator_ctrlrange[m.actuator(name).id] == pytest.approx([joint.lower, joint.upper])
    torques = [m.actuator_forcerange[m.actuator(n).id][1] for n in env.embodiment.joint_names]
    assert torques == [150.0] * 3 + [28.0] * 3
    links = ("base_link", "shoulder_link", "upper_arm_link", "forearm_link", "wrist_1_link", "wrist_2_link",
             "wrist_3_link")  # fmt: skip
    for link in links:  # every link shows and collides through the URDF's collision mesh
        geom = m.geom(f"ur5_{link}_0")
        assert geom.type == 7 and (geom.contype, geom.conaffinity) == (4, 3)  # mjGEOM_MESH


def _relative_pose(m, d, base: str, link: str) -> tuple[np.ndarray, np.ndarray]:
    b, k = m.body(base).id, m.body(link).id
    rot = d.xmat[b].reshape(3, 3)
    return rot.T @ (d.xpos[k] - d.xpos[b]), rot.T @ d.xmat[k].reshape(3, 3)


def test_kinematics_match_mujocos_own_urdf_import(env):
    """The flange pose over random joint angles equals the one MuJoCo's URDF importer computes from the
    same file (it checks the parsing of origins, roll-pitch-yaw and axes)."""
    urdf = ra.ur5_urdf()
    text = re.sub(r"package://[^\"]*/", "", urdf.read_text())  # mesh file names only
    compiler = f'<mujoco><compiler meshdir="{urdf.parent.parent / "meshes/ur5/collision"}" discardvisual="true" fusestatic="false"/></mujoco>'
    ref = mujoco.MjModel.from_xml_string(re.sub(r"(<robot[^>]*>)", r"\1" + compiler, text, count=1))
    ref_data, d = mujoco.MjData(ref), mujoco.MjData(env.model)
    qadr = env.embodiment.qadr
    for q in np.random.default_rng(0).uniform(-3.0, 3.0, (5, 6)):
        ref_data.qpos[:6] = q
        d.qpos[qadr] = q
        mujoco.mj_kinematics(ref, ref_data)
        mujoco.mj_kinematics(env.model, d)
        pos, rot = _relative_pose(env.model, d, "ur5_base_link", "ur5_flange")
        ref_pos, ref_rot = _relative_pose(ref, ref_data, "base_link", "tool0")
        assert pos == pytest.approx(ref_pos, abs=1e-6) and rot == pytest.approx(ref_rot, abs=1e-6)


def test_hand_sits_on_the_tool_flange(env):
    """The benchmark's hand hangs on tool0: 8.23 cm out of wrist 3, along the flange's axis."""
    env.reset(seed=0)
    m, d = env.model, env.data
    flange, wrist3, hand = (m.body(n).id for n in ("ur5_flange", "ur5_wrist_3_link", "hand"))
    assert np.linalg.norm(d.xpos[flange] - d.xpos[wrist3]) == pytest.approx(0.0823, abs=1e-6)
    assert d.xpos[hand] == pytest.approx(d.xpos[flange])
    tool_axis = d.xmat[hand].reshape(3, 3)[:, 2]
    to_ee = env.embodiment.ee_pos() - d.xpos[hand]
    assert to_ee == pytest.approx(0.08 * tool_axis, abs=1e-6)  # the grasp point lies along the tool axis
    assert tool_axis == pytest.approx([0, 0, -1], abs=1e-3)  # pointing down at home


def test_native_action_is_in_the_ur_base_frame(env):
    """speedL +x of the UR's base frame (half a turn from the world here) moves the hand toward -x."""
    env.reset(seed=0)
    e = env.embodiment
    assert e.base_rot == pytest.approx(np.diag([-1.0, -1.0, 1.0]), abs=1e-9)
    start = e.ee_pos()
    native = np.zeros(7, np.float32)
    native[0] = 0.1  # m/s along the base frame's x
    for _ in range(5):
        env.step(native)
    moved = e.ee_pos() - start
    assert moved[0] < -0.04 and abs(moved[1]) < 0.01 and abs(moved[2]) < 0.01, moved
    u = e.to_universal(native)
    assert u[:3] == pytest.approx([-0.01, 0.0, 0.0], abs=1e-7) and u[6] == -1.0
    assert e.from_universal(u) == pytest.approx(native, abs=1e-6)
