"""The mobile manipulator: the base part of the universal action, fixed bodies ignoring it, the base's
limits and collisions, the tabletop-mobile suite refusing fixed bodies, and the expert reaching an
object that starts beyond the arm's reach."""

import mujoco
import numpy as np
import pytest

from hivla.errors import HivlaError
from hivla.sim import EMBODIMENTS, SUITES, ScriptedExpert, check_embodiment, embodiments_of, make_env
from hivla.sim.benchmarks import EmbodimentMismatchError
from hivla.sim.embodiments import (
    ARM_MOUNT,
    BASE_AREA_HIGH,
    BASE_AREA_LOW,
    BASE_HOME,
    BASE_YAW_LIMIT,
    HOME_MOUNT,
    WORKSPACE_HIGH,
    WORKSPACE_LOW,
)
from hivla.sim.env import NeedsBaseError
from hivla.types import check_universal_action, universal_for_body

FIXED = [e for e in EMBODIMENTS.names() if not EMBODIMENTS.get(e).has_base]
MOBILE = [e for e in EMBODIMENTS.names() if EMBODIMENTS.get(e).has_base]


@pytest.fixture(scope="module")
def mobile_env():
    env = make_env("tabletop-mobile", "mobile", render=False)
    yield env
    env.close()


def _turn_base(env, yaw: float) -> None:
    """Set the base's yaw directly (a state the round trips must hold in, not only at yaw 0)."""
    emb = env.embodiment
    env.data.qpos[emb.base_qadr[2]] = yaw
    mujoco.mj_forward(env.model, env.data)


def test_registered_and_described():
    assert MOBILE == ["mobile"] and "mobile" not in FIXED
    emb = EMBODIMENTS.get("mobile")()
    assert emb.universal_dim == 10 and emb.universal_names[7:] == ("base_vx", "base_vy", "base_wz")
    assert emb.state_names[-3:] == ("base_x", "base_y", "base_yaw")
    assert all(EMBODIMENTS.get(e)().universal_dim == 7 for e in FIXED)


def test_universal_action_widths():
    assert check_universal_action(np.zeros(7)).shape == (7,)
    assert check_universal_action(np.zeros(10)).shape == (10,)
    with pytest.raises(ValueError, match=r"\(7,\) or \(10,\)"):
        check_universal_action(np.zeros(8))
    with_base = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(universal_for_body(with_base, has_base=False), with_base[:7])
    np.testing.assert_array_equal(
        universal_for_body(with_base[:7], has_base=True), np.r_[with_base[:7], 0, 0, 0]
    )


def test_base_part_round_trips(mobile_env):
    """native -> universal -> native and universal -> native -> universal, at several base yaws."""
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[0])
    rng = np.random.default_rng(0)
    for yaw in (0.0, 0.4, -0.5):
        _turn_base(env, yaw)
        for _ in range(4):
            native = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
            universal = env.to_universal(native)
            assert universal.shape == (10,)
            np.testing.assert_allclose(env.from_universal(universal), native, atol=1e-5)
            np.testing.assert_allclose(env.to_universal(env.from_universal(universal)), universal, atol=1e-6)
        # The base part is the world-frame motion per step: driving "forward" at yaw moves along (cos, sin).
        forward = np.zeros(10, np.float32)
        forward[7] = 0.2  # m/s, the base's own x
        u = env.to_universal(forward)
        np.testing.assert_allclose(
            u[7:9], 0.2 * env.embodiment.DT * np.array([np.cos(yaw), np.sin(yaw)]), atol=1e-6
        )


@pytest.mark.parametrize("emb", FIXED)
def test_fixed_bodies_drop_the_base_part(single_envs, emb):
    env = single_envs(emb)
    env.reset(seed=3)
    arm = np.array([0.01, -0.02, 0.005, 0.0, 0.0, 0.1, 1.0], np.float32)
    for base in ([0.02, -0.01, 0.05], [0.0, 0.0, 0.0]):
        np.testing.assert_array_equal(env.from_universal(np.r_[arm, base]), env.from_universal(arm))


def test_mobile_given_seven_values_keeps_its_base_still(mobile_env):
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[1])
    start = env.embodiment.base_pose()
    native = env.from_universal(np.array([0.02, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0], np.float32))
    np.testing.assert_array_equal(native[7:], 0.0)
    for _ in range(5):
        env.step(native)
    np.testing.assert_allclose(env.embodiment.base_pose(), start, atol=2e-3)


def test_a_still_hand_stays_while_the_base_drives(mobile_env):
    """The end-effector part is the hand's world motion: zero hand motion with a moving base holds it."""
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[2])
    emb = env.embodiment
    hand, base = emb.ee_pos(), emb.base_pose()
    action = np.r_[np.zeros(6), -1.0, 0.0, 0.02, 0.0].astype(np.float32)  # base 2 cm/step to the left
    for _ in range(8):
        env.step(env.from_universal(action))
    assert emb.base_pose()[1] - base[1] > 0.12
    assert np.linalg.norm(emb.ee_pos() - hand) < 0.02


def test_a_still_hand_stays_while_the_base_turns(mobile_env):
    """Turning the base carries the hand round; the arm takes the turn out (within 3 cm at 0.08 rad/step)."""
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[2])
    emb = env.embodiment
    hand = emb.ee_pos()
    action = np.r_[np.zeros(6), -1.0, 0.0, 0.0, 0.08].astype(np.float32)
    drift = []
    for _ in range(7):
        env.step(env.from_universal(action))
        drift.append(np.linalg.norm(emb.ee_pos() - hand))
    assert emb.base_pose()[2] > 0.45
    assert max(drift) < 0.03, drift


def test_arm_frame_round_trips_and_is_the_world_at_home(mobile_env):
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[0])
    emb = env.embodiment
    point = np.array([0.1, -0.3, 0.2])
    np.testing.assert_allclose(emb.to_arm_frame(point), point, atol=1e-12)  # the base at home
    for q in ([0.0, 0.3, 0.5], [-0.2, -0.4, -0.6]):
        arm = emb.to_arm_frame(point, np.array(q))
        np.testing.assert_allclose(emb.from_arm_frame(arm, np.array(q)), point, atol=1e-12)
        assert abs(np.linalg.norm(arm[:2] - HOME_MOUNT) - np.linalg.norm(point[:2] - _mount_at(q))) < 1e-12


def _mount_at(q) -> np.ndarray:
    x, y, yaw = BASE_HOME[0] + q[0], BASE_HOME[1] + q[1], q[2]
    return np.array([x + ARM_MOUNT * np.cos(yaw), y + ARM_MOUNT * np.sin(yaw)])


def test_the_workspace_box_turns_with_the_base(mobile_env):
    """With the base turned left, the hand driven left stops at the turned box's edge, beyond where the
    unturned box would have stopped it, and stays inside the turned one."""
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[2])
    emb = env.embodiment
    turn = np.r_[np.zeros(6), -1.0, 0.0, 0.0, 0.08].astype(np.float32)
    for _ in range(7):
        env.step(env.from_universal(turn))
    left = np.r_[0.0, 0.03, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0].astype(np.float32)
    for _ in range(40):
        env.step(env.from_universal(left))
    in_arm = emb.to_arm_frame(emb.ee_pos())
    assert np.all(in_arm >= WORKSPACE_LOW - 0.02) and np.all(in_arm <= WORKSPACE_HIGH + 0.02), in_arm
    unturned_edge = WORKSPACE_HIGH[1] + emb.mount_xy()[1] - HOME_MOUNT[1]
    assert emb.ee_pos()[1] > unturned_edge + 0.1


def test_base_limits_hold_under_random_actions(mobile_env):
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[3])
    emb = env.embodiment
    rng = np.random.default_rng(1)
    for i in range(80):
        native = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        if i < 30:  # first drive hard at the table and to one end, then at random
            native[7:] = env.action_space.high[7:]
        env.step(native * 100)  # far beyond the limits: clipped
        x, y, yaw = emb.base_pose()
        assert BASE_AREA_LOW[0] - 0.01 <= x <= BASE_AREA_HIGH[0] + 0.01, x
        assert BASE_AREA_LOW[1] - 0.01 <= y <= BASE_AREA_HIGH[1] + 0.01, y
        assert abs(yaw) <= BASE_YAW_LIMIT + 0.02, yaw
        q = emb.q()
        assert np.all(q >= emb.q_low - 0.02) and np.all(q <= emb.q_high + 0.02), q


def _base_geoms(env) -> set[int]:
    m = env.model
    base = m.body("mobile_base").id
    return {g for g in range(m.ngeom) if m.geom_bodyid[g] == base and m.geom_contype[g]}


def test_base_collisions_register_as_contacts(mobile_env):
    """The base's column against the table edge, and an object against the base, are contacts."""
    env = mobile_env
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[4])
    emb, table = env.embodiment, env.model.geom("table").id
    assert _base_geoms(env), "the base has collision geometry"
    assert not any(
        table in (c.geom1, c.geom2) and {c.geom1, c.geom2} & _base_geoms(env)
        for c in env.data.contact[: env.data.ncon]
    )
    env.data.qpos[emb.base_qadr[0]] = 0.04  # pushed 4 cm toward the table, past its floor area
    mujoco.mj_forward(env.model, env.data)
    pairs = [{int(c.geom1), int(c.geom2)} for c in env.data.contact[: env.data.ncon]]
    assert any(table in p and p & _base_geoms(env) for p in pairs), pairs
    env.reset(seed=SUITES.get("tabletop-mobile").heldout_seeds[4])
    name = env.spec.objects[0].name
    q = env.slot_qpos[env.slot_of(name)]
    env.data.qpos[q : q + 3] = env.data.geom_xpos[env.model.geom("base_column").id]
    mujoco.mj_forward(env.model, env.data)
    assert any(set(pair) == {name, "mobile_base"} for pair in env.contacts()), env.contacts()


def test_mobile_suite_needs_a_base():
    assert embodiments_of("tabletop-mobile") == MOBILE
    for emb in FIXED:
        with pytest.raises(EmbodimentMismatchError, match="--embodiment mobile"):
            check_embodiment("tabletop-mobile", emb)
    with pytest.raises(NeedsBaseError, match=r"'arm6' has none.*--embodiment mobile"):
        make_env("tabletop-mobile", "arm6", render=False)
    assert issubclass(NeedsBaseError, HivlaError)
    check_embodiment("tabletop-single", "mobile")  # the mobile body runs the fixed suites too


def test_mobile_scene_is_wider_and_the_fixed_scene_unchanged(mobile_env):
    fixed = make_env("tabletop-single", "mobile", render=False)
    try:
        np.testing.assert_allclose(fixed.model.geom("table").size[:2], (0.55, 0.45))
        assert mobile_env.model.geom("table").size[1] > 0.9
    finally:
        fixed.close()


def test_expert_reaches_an_object_out_of_the_arms_reach(mobile_env):
    """A pick whose object starts beyond the standing arm's workspace: the expert drives the base and
    picks it up."""
    env = mobile_env
    emb = env.embodiment
    for seed in SUITES.get("tabletop-mobile").heldout_seeds:
        env.reset(seed=seed)
        first = env.spec.subtasks[0]
        if (
            first.kind == "pick"
            and len(env.spec.subtasks) == 1
            and not emb.in_reach(env.object_pos(first.obj))
        ):
            break
    else:
        raise AssertionError("no single-pick episode with an object out of reach")
    assert not emb.in_reach(env.object_pos(first.obj))  # out of reach at the start
    start = emb.base_pose()
    expert = ScriptedExpert(env)
    while True:
        _, _, terminated, truncated, info = env.step(expert.act()[0])
        if terminated or truncated:
            break
    assert info["success"], (seed, info["subtasks"])
    assert np.linalg.norm(emb.base_pose()[:2] - start[:2]) > 0.1  # the base drove there
    assert env.grasped() == first.obj
