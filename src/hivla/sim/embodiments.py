"""Robot embodiments: kinematics (MJCF), native action spaces, controllers, and the mapping to and
from the universal end-effector action ``[dx, dy, dz, drx, dry, drz, gripper]`` (world frame, per
control step; gripper in [-1, 1], +1 closes).

Every home-made embodiment carries the same parallel-jaw hand (``scene_xml.hand_xml``); ``panda`` is a
real robot's model with its own hand and collision meshes; ``ur5`` is a real arm's model (collision
meshes) that carries the home-made hand on its tool flange.

| name     | kinematics                              | native action                                      |
|----------|-----------------------------------------|----------------------------------------------------|
| arm6     | 6-DoF arm, base turned 15 degrees        | EE delta in the *base* frame (3 + axis-angle 3) and gripper in [0, 1] (1 = closed); Jacobian (damped least squares) IK to joint position targets |
| arm5     | 5-DoF arm (yaw, 3 pitch, tool roll)     | joint velocities (rad/s) and gripper in [-1, 1]    |
| floating | floating hand: x, y, z slides, yaw      | xyz delta and yaw delta (world) and gripper in [-1, 1] |
| hand     | the floating hand dressed as a bigger human hand and forearm, filmed by a shaking front camera | as floating |
| panda    | the Franka Emika Panda and its hand (``hivla.sim.robot_assets``, extra ``hivla[robots]``) | EE velocity in the base frame and gripper position in [0, 1]; redundant IK with a null-space posture pull |
| ur5      | the Universal Robots UR5 from its URDF with the benchmark's parallel gripper (``hivla.sim.robot_assets``, extra ``hivla[robots]``) | EE velocity in the UR controller's base frame (speedL) and gripper position in [0, 1]; damped least squares IK over its 6 joints |
| mobile   | a holonomic wheeled base (x, y, yaw) carrying arm6's arm | hand delta in the base frame, gripper in [-1, 1], base velocity in the base frame (m/s, rad/s); its universal action adds the base part (10 values, ``hivla.types``) |

``hand`` stands in for videos of human demonstrations (``hivla collect --video-only``): it moves
and grasps like ``floating`` (the scripted expert drives it; its collision geometry is the same)
but looks different (skin and sleeve, larger) and its front camera shakes a little
(``camera_shake``), so the videos carry an embodiment gap and a camera gap.

Native actions outside the limits are clipped (the action space says so); NaN/inf or a wrong shape
raise ``ValueError`` in the env.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hivla.registry import Registry
from hivla.sim import geometry as geo
from hivla.sim.scene_xml import HAND_ACTUATORS, hand_xml, human_look_xml
from hivla.types import universal_action_names

EMBODIMENTS: Registry[type[Embodiment]] = Registry("embodiment")

FINGER_OPEN = 0.045
WORKSPACE_LOW = np.array([-0.32, -0.38, 0.004])
WORKSPACE_HIGH = np.array([0.44, 0.38, 0.42])
HOME_EE = np.array([-0.05, 0.0, 0.25])
MAX_TRANSLATION = 0.03  # metres per control step
MAX_ROTATION = 0.25  # radians per control step


@dataclass(frozen=True)
class LinkSpec:
    joint_axis: str
    offset: str  # position of this link's frame in its parent
    length: float  # visual capsule along +z
    low: float
    high: float
    kp: float = 900.0


def _arm_xml(base_pos: str, base_yaw: float, links: list[LinkSpec], prefix: str) -> tuple[str, str]:
    """A serial arm of hinge joints ending in the hand; link geoms are visual only."""
    body = f'<body name="{prefix}_base" pos="{base_pos}" euler="0 0 {base_yaw}">'
    body += '<geom type="cylinder" size="0.06 0.05" pos="0 0 0.05" rgba="0.2 0.2 0.22 1" contype="0" conaffinity="0"/>'
    closing = "</body>"
    actuators = []
    for i, link in enumerate(links):
        name = f"{prefix}_j{i + 1}"
        body += f'<body name="{prefix}_link{i + 1}" pos="{link.offset}" gravcomp="1">'
        body += '<inertial pos="0 0 0.05" mass="0.8" diaginertia="0.004 0.004 0.002"/>'
        body += (
            f'<joint name="{name}" type="hinge" axis="{link.joint_axis}" range="{link.low} {link.high}" '
            f'damping="30" armature="0.05"/>'
        )
        if link.length > 0:
            body += (
                f'<geom type="capsule" fromto="0 0 0 0 0 {link.length}" size="0.035" '
                f'rgba="0.82 0.82 0.85 1" contype="0" conaffinity="0"/>'
            )
        closing += "</body>"
        actuators.append(
            f'<position name="{name}" joint="{name}" kp="{link.kp}" ctrlrange="{link.low} {link.high}" '
            f'forcerange="-150 150"/>'
        )
    body += hand_xml(pos="0 0 0.06")
    return body + closing, "\n    ".join(actuators) + HAND_ACTUATORS


class Embodiment:
    """A robot bound to one env's model and data. Subclasses set the class attributes and XML."""

    name: str = ""
    description: str = ""
    action_names: tuple[str, ...] = ()
    action_low: np.ndarray
    action_high: np.ndarray
    joint_names: tuple[str, ...] = ()
    camera_shake: float = 0.0  # metres: how far the front camera wanders while filming (0: steady)
    human_stand_in: bool = False  # stands in for a person: its videos teach, its actions never do
    hand_body: str = "hand"  # the body whose subtree is the hand (its collidable geoms touch objects)
    finger_open: float = FINGER_OPEN  # metres each finger opens
    hand_half_span: float = 0.06  # metres the hand reaches either side of the grasp point along the fingers
    has_base: bool = False  # a wheeled base: its universal action has the base part (``hivla.types``)

    # ---- model ---------------------------------------------------------------------------------
    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        """(the robot's body tree, its actuators) as MJCF text."""
        raise NotImplementedError

    @classmethod
    def robot_sections(cls) -> str:
        """Top-level MJCF sections the robot needs (mesh assets, default classes, contact exclusions)."""
        return ""

    @classmethod
    def missing(cls) -> str | None:
        """None when the embodiment can be built here, else why not (an optional extra not installed)."""
        return None

    def bind(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        self.model, self.data = model, data
        self.ee_site = model.site("ee").id
        self.qadr = np.array([model.joint(j).qposadr[0] for j in self.joint_names])
        self.dofadr = np.array([model.joint(j).dofadr[0] for j in self.joint_names])
        self.act_ids = np.array([model.actuator(j).id for j in self.joint_names])
        self.finger_act = np.array([model.actuator("finger_left").id, model.actuator("finger_right").id])
        self.finger_q = np.array([model.joint(j).qposadr[0] for j in ("finger_left", "finger_right")])
        self.q_low = model.jnt_range[[model.joint(j).id for j in self.joint_names], 0].copy()
        self.q_high = model.jnt_range[[model.joint(j).id for j in self.joint_names], 1].copy()
        self.q_cmd = np.zeros(len(self.joint_names))
        self.home_q = self.solve_home()

    @property
    def action_dim(self) -> int:
        return len(self.action_names)

    @property
    def universal_names(self) -> tuple[str, ...]:
        """The names of this body's universal action (7 values; 10 with a base)."""
        return universal_action_names(self.has_base)

    @property
    def universal_dim(self) -> int:
        return len(self.universal_names)

    @property
    def state_names(self) -> tuple[str, ...]:
        rot = tuple(f"ee_rot{i}" for i in range(6))
        return ("ee_x", "ee_y", "ee_z", *rot, "gripper_width", *(f"q_{j}" for j in self.joint_names))

    @property
    def state_dim(self) -> int:
        return len(self.state_names)

    # ---- kinematics ----------------------------------------------------------------------------
    def ee_pos(self) -> np.ndarray:
        return self.data.site_xpos[self.ee_site].copy()

    def ee_mat(self) -> np.ndarray:
        return self.data.site_xmat[self.ee_site].reshape(3, 3).copy()

    def gripper_width(self) -> float:
        return float(self.data.qpos[self.finger_q].sum())

    def jacobian(self) -> np.ndarray:
        """6 x n Jacobian (position rows, then rotation rows) of the ee site over the arm joints."""
        jacp = np.zeros((3, self.model.nv))
        jacr = np.zeros((3, self.model.nv))
        mujoco.mj_jacSite(self.model, self.data, jacp, jacr, self.ee_site)
        return np.vstack([jacp[:, self.dofadr], jacr[:, self.dofadr]])

    def q(self) -> np.ndarray:
        return self.data.qpos[self.qadr].copy()

    HOME_YAW = 0.0

    def solve_home(self) -> np.ndarray:
        """Joint configuration with the hand at HOME_EE pointing down at HOME_YAW."""
        return self.ik(HOME_EE, geo.rot_z(self.HOME_YAW) @ geo.R_DOWN, self.initial_guess())

    def initial_guess(self) -> np.ndarray:
        return np.zeros(len(self.joint_names))

    def yaw_room(self) -> tuple[float, float]:
        """How far (rad) the hand, pointing down, can still turn about the vertical (negative, positive)
        before a joint limit; the scripted expert turns the other way round (the hand is symmetric
        under half turns) when a turn would not fit. Unlimited unless an embodiment says otherwise."""
        return np.inf, np.inf

    def ik(self, pos: np.ndarray, mat: np.ndarray, q0: np.ndarray, iters: int = 200) -> np.ndarray:
        """Damped least squares IK on a scratch copy of the data."""
        saved = self.data.qpos.copy()
        q = q0.copy()
        for _ in range(iters):
            self.data.qpos[self.qadr] = q
            mujoco.mj_kinematics(self.model, self.data)
            mujoco.mj_comPos(self.model, self.data)
            err = np.concatenate([pos - self.ee_pos(), geo.orientation_error(self.ee_mat(), mat)])
            if np.linalg.norm(err) < 1e-6:
                break
            q = np.clip(q + dls(self.jacobian(), err, 0.05), self.q_low, self.q_high)
        self.data.qpos[:] = saved
        mujoco.mj_kinematics(self.model, self.data)
        return q

    # ---- episode -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Put the arm at home with the hand open; called before mj_forward."""
        self.data.qpos[self.qadr] = self.home_q
        self.data.qpos[self.finger_q] = self.finger_open
        self.q_cmd = self.home_q.copy()
        self.data.ctrl[self.act_ids] = self.home_q
        self.data.ctrl[self.finger_act] = self.finger_open

    def controller_state(self) -> np.ndarray:
        return self.q_cmd.copy()

    def set_controller_state(self, state: np.ndarray) -> None:
        self.q_cmd = np.asarray(state, dtype=np.float64).copy()

    def state(self) -> np.ndarray:
        mat = self.ee_mat()
        return np.concatenate([self.ee_pos(), mat[:, 0], mat[:, 1], [self.gripper_width()], self.q()]).astype(
            np.float32
        )

    # ---- actions -------------------------------------------------------------------------------
    def clip(self, native: np.ndarray) -> np.ndarray:
        return np.clip(native, self.action_low, self.action_high)

    def apply(self, native: np.ndarray) -> None:
        """Turn one (clipped, finite) native action into actuator targets."""
        raise NotImplementedError

    def set_gripper(self, command: float) -> None:
        """command in [-1, 1], +1 closes."""
        opening = self.finger_open * (1.0 - float(np.clip(command, -1, 1))) / 2.0
        self.data.ctrl[self.finger_act] = opening

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _hold_command(self) -> None:
        self.q_cmd = np.clip(self.q_cmd, self.q_low, self.q_high)
        self.q_cmd = np.clip(self.q_cmd, self.q() - 0.3, self.q() + 0.3)  # no wind-up when blocked
        self.data.ctrl[self.act_ids] = self.q_cmd


def base_mismatch(suite: str, needs_base: bool, embodiment: str) -> str | None:
    """Why ``embodiment`` cannot run a suite that ``needs_base``, or None when it can."""
    if not needs_base or EMBODIMENTS.get(embodiment).has_base:
        return None
    able = [n for n in EMBODIMENTS.names() if EMBODIMENTS.get(n).has_base]
    return (
        f"suite {suite} places objects beyond a standing arm's reach and needs an embodiment with a wheeled "
        f"base; {embodiment!r} has none. Run it with --embodiment {' or '.join(able)}"
    )


def dls(jac: np.ndarray, err: np.ndarray, damping: float) -> np.ndarray:
    """Damped least squares step: J^T (J J^T + lambda^2 I)^-1 err."""
    jjt = jac @ jac.T
    return jac.T @ np.linalg.solve(jjt + damping**2 * np.eye(jjt.shape[0]), err)


def clip_translation(ee: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Shrink a translation so the end effector stays inside the workspace box."""
    return np.clip(ee + delta, WORKSPACE_LOW, WORKSPACE_HIGH) - ee


def last_joint_yaw_room(emb: Embodiment) -> tuple[float, float]:
    """``yaw_room`` of an arm whose hand turns about the tool axis with its last joint: that joint's room
    to its limits (the others only tilt the hand while it points down), signed as the hand's yaw turns."""
    jac = emb.jacobian()
    sign = np.sign(jac[5, -1]) or 1.0  # world yaw per radian of the last joint (the Panda's: about -1)
    q, low, high = emb.q()[-1], emb.q_low[-1], emb.q_high[-1]
    return (q - low, high - q) if sign > 0 else (high - q, q - low)


def clamped_dls(emb: Embodiment, err: np.ndarray, posture_gain: float) -> np.ndarray:
    """Joint step (n,) toward the pose error ``err`` (6,): damped least squares with a null-space pull
    toward the home posture; a joint the step would push past its limit is frozen (it keeps only the
    posture pull, which also folds an arm out of a stretched singularity) and the others solve again
    (clamping IK), so a joint at a limit never absorbs the motion."""
    q, free = emb.q(), np.ones(len(emb.joint_names), bool)
    for _ in range(3):
        jac = emb.jacobian() * free  # (6, n): frozen joints' columns zeroed
        pinv = jac.T @ np.linalg.inv(jac @ jac.T + 0.02**2 * np.eye(6))  # (n, 6)
        posture = posture_gain * (emb.home_q - q)  # a frozen joint keeps only this pull
        dq = pinv @ err + (np.eye(len(q)) - pinv @ jac) @ posture
        past = free & (((q + dq < emb.q_low + 0.02) & (dq < 0)) | ((q + dq > emb.q_high - 0.02) & (dq > 0)))
        if not past.any():
            break
        free &= ~past
    return dq


class CartesianTargetArm(Embodiment):
    """An arm that tracks a Cartesian target pose of its hand (position and orientation, moved by
    each action) with IK; the target starts at the home pose and is part of the controller state."""

    def _home_target(self) -> None:
        self.target_pos = HOME_EE.copy()
        self.target_mat = geo.rot_z(self.HOME_YAW) @ geo.R_DOWN

    def bind(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        super().bind(model, data)
        self._home_target()

    def reset(self) -> None:
        super().reset()
        self._home_target()

    def controller_state(self) -> np.ndarray:
        return np.concatenate([self.q_cmd, self.target_pos, self.target_mat.ravel()])

    def set_controller_state(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64)
        n = len(self.joint_names)
        self.q_cmd, self.target_pos = state[:n].copy(), state[n : n + 3].copy()
        self.target_mat = state[n + 3 :].reshape(3, 3).copy()


# arm6's kinematic chain (joint axis, offset in the parent, visual length, joint range, position gain); the
# mobile body carries the same arm
ARM6_LINKS = (
    LinkSpec("0 0 1", "0 0 0.1", 0.15, -3.1, 3.1),
    LinkSpec("0 1 0", "0 0 0.15", 0.5, -1.2, 2.2),
    LinkSpec("0 1 0", "0 0 0.5", 0.25, -0.3, 2.9),
    LinkSpec("0 0 1", "0 0 0.25", 0.2, -3.1, 3.1, kp=400),
    LinkSpec("0 1 0", "0 0 0.2", 0.06, -2.4, 2.4, kp=400),
    LinkSpec("0 0 1", "0 0 0.06", 0.0, -4.7, 4.7, kp=300),
)


@EMBODIMENTS.register("arm6")
class Arm6(CartesianTargetArm):
    name = "arm6"
    description = "6-DoF arm, end-effector deltas in its base frame via Jacobian IK; gripper in [0, 1]"
    action_names = ("base_dx", "base_dy", "base_dz", "base_drx", "base_dry", "base_drz", "gripper_closed")
    action_low = np.array([-MAX_TRANSLATION] * 3 + [-MAX_ROTATION] * 3 + [0.0], dtype=np.float32)
    action_high = np.array([MAX_TRANSLATION] * 3 + [MAX_ROTATION] * 3 + [1.0], dtype=np.float32)
    joint_names = tuple(f"arm6_j{i}" for i in range(1, 7))
    BASE_YAW = 0.26
    HOME_YAW = np.pi  # keeps the tool roll joint mid-range (the hand is symmetric under half turns)

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        return _arm_xml("-0.5 -0.08 0", cls.BASE_YAW, list(ARM6_LINKS), "arm6")

    def initial_guess(self) -> np.ndarray:
        return np.array([0.0, 0.4, 1.6, 0.0, 1.1, 0.0])

    def bind(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        super().bind(model, data)
        self.base_rot = geo.rot_z(self.BASE_YAW)

    def apply(self, native: np.ndarray) -> None:
        dpos = self.base_rot @ native[:3]
        drot = self.base_rot @ native[3:6]
        ee = self.ee_pos()
        # Track an internal target pose (drift-free when the command is zero), kept near the hand.
        self.target_pos = np.clip(self.target_pos + dpos, WORKSPACE_LOW, WORKSPACE_HIGH)
        self.target_pos = ee + np.clip(self.target_pos - ee, -0.05, 0.05)
        self.target_mat = geo.axis_angle_to_mat(drot) @ self.target_mat
        err = np.concatenate([self.target_pos - ee, geo.orientation_error(self.ee_mat(), self.target_mat)])
        self.q_cmd = self.q() + dls(self.jacobian(), err, 0.02)
        self._hold_command()
        self.set_gripper(2.0 * float(native[6]) - 1.0)

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        native = np.asarray(native, dtype=np.float64)
        out = np.concatenate(
            [self.base_rot @ native[:3], self.base_rot @ native[3:6], [2.0 * native[6] - 1.0]]
        )
        return out.astype(np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        u = np.asarray(universal, dtype=np.float64)
        out = np.concatenate([self.base_rot.T @ u[:3], self.base_rot.T @ u[3:6], [(u[6] + 1.0) / 2.0]])
        return out.astype(np.float32)


@EMBODIMENTS.register("arm5")
class Arm5(Embodiment):
    name = "arm5"
    description = "5-DoF arm (yaw, three pitch joints, tool roll) driven by joint velocities"
    joint_names = tuple(f"arm5_j{i}" for i in range(1, 6))
    action_names = (*(f"qdot_{j}" for j in joint_names), "gripper")
    action_low = np.array([-1.5] * 5 + [-1.0], dtype=np.float32)
    action_high = np.array([1.5] * 5 + [1.0], dtype=np.float32)
    DT = 0.1  # control period (set by the env at bind time)
    HOME_YAW = np.pi
    ROT_WEIGHT = 0.3

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        links = [
            LinkSpec("0 0 1", "0 0 0.1", 0.15, -3.1, 3.1),
            LinkSpec("0 1 0", "0 0 0.15", 0.5, -1.2, 2.2),
            LinkSpec("0 1 0", "0 0 0.5", 0.45, -0.3, 2.9),
            LinkSpec("0 1 0", "0 0 0.45", 0.06, -2.4, 2.4, kp=400),
            LinkSpec("0 0 1", "0 0 0.06", 0.0, -4.7, 4.7, kp=300),
        ]
        return _arm_xml("-0.5 0.08 0", 0.0, links, "arm5")

    def initial_guess(self) -> np.ndarray:
        return np.array([0.0, 0.4, 1.6, 1.1, 0.0])

    def apply(self, native: np.ndarray) -> None:
        self.q_cmd = self.q_cmd + native[:5] * self.DT
        self._hold_command()
        self.set_gripper(float(native[5]))

    def _weights(self) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0] + [self.ROT_WEIGHT] * 3)

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        native = np.asarray(native, dtype=np.float64)
        twist = self.jacobian() @ (native[:5] * self.DT)
        return np.concatenate([twist, [native[5]]]).astype(np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        """Weighted damped least squares: the joint velocities whose twist best matches the command."""
        u = np.asarray(universal, dtype=np.float64)
        w = self._weights()
        dq = dls(self.jacobian() * w[:, None], u[:6] * w, 0.01)
        return np.concatenate([dq / self.DT, [u[6]]]).astype(np.float32)


@EMBODIMENTS.register("floating")
class Floating(Embodiment):
    name = "floating"
    description = "floating parallel-jaw hand with x, y, z slides and a yaw joint"
    joint_names = ("float_x", "float_y", "float_z", "float_yaw")
    action_names = ("dx", "dy", "dz", "dyaw", "gripper")
    action_low = np.array([-MAX_TRANSLATION] * 3 + [-MAX_ROTATION, -1.0], dtype=np.float32)
    action_high = np.array([MAX_TRANSLATION] * 3 + [MAX_ROTATION, 1.0], dtype=np.float32)
    TOOL_OFFSET = 0.08  # ee site below the mount when pointing down
    LOOK: tuple[str, str] = ("", "")  # extra visual geoms of the hand (``scene_xml.hand_xml``)

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        z0 = cls.TOOL_OFFSET
        slide = 'type="slide" damping="40" armature="0.1"'
        body = f"""
    <body name="float_mount" pos="0 0 {z0}" gravcomp="1">
      <inertial pos="0 0 0" mass="0.3" diaginertia="0.001 0.001 0.001"/>
      <joint name="float_x" {slide} axis="1 0 0" range="-0.4 0.5"/>
      <joint name="float_y" {slide} axis="0 1 0" range="-0.45 0.45"/>
      <joint name="float_z" {slide} axis="0 0 1" range="-0.05 0.5"/>
      <joint name="float_yaw" type="hinge" axis="0 0 1" range="-3.1 3.1" damping="5" armature="0.01"/>
      {hand_xml(pos="0 0 0", quat="0 1 0 0", look=cls.LOOK)}
    </body>"""
        acts = """
    <position name="float_x" joint="float_x" kp="2000" ctrlrange="-0.4 0.5" forcerange="-200 200"/>
    <position name="float_y" joint="float_y" kp="2000" ctrlrange="-0.45 0.45" forcerange="-200 200"/>
    <position name="float_z" joint="float_z" kp="2000" ctrlrange="-0.05 0.5" forcerange="-200 200"/>
    <position name="float_yaw" joint="float_yaw" kp="100" ctrlrange="-3.1 3.1" forcerange="-30 30"/>"""
        return body, acts + HAND_ACTUATORS

    def solve_home(self) -> np.ndarray:
        return np.array([HOME_EE[0], HOME_EE[1], HOME_EE[2], 0.0])

    def apply(self, native: np.ndarray) -> None:
        ee_cmd = self.q_cmd[:3] + native[:3]
        self.q_cmd[:3] = np.clip(ee_cmd, WORKSPACE_LOW, WORKSPACE_HIGH)
        self.q_cmd[3] = self.q_cmd[3] + native[3]
        self._hold_command()
        self.set_gripper(float(native[4]))

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        n = np.asarray(native, dtype=np.float64)
        return np.array([n[0], n[1], n[2], 0.0, 0.0, n[3], n[4]], dtype=np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        u = np.asarray(universal, dtype=np.float64)
        return np.array([u[0], u[1], u[2], u[5], u[6]], dtype=np.float32)


@EMBODIMENTS.register("hand")
class HumanHand(Floating):
    """A stand-in for a human demonstrator's hand (see the module docstring)."""

    name = "hand"
    description = "human-hand stand-in for action-free videos: the floating hand with a skin-coloured, larger look and a shaking camera"
    LOOK = human_look_xml(skin="0.87 0.66 0.52 1", sleeve="0.2 0.35 0.6 1")
    camera_shake = 0.015
    human_stand_in = True


class VelocityCommandedArm(CartesianTargetArm):
    """A real arm driven as its controller's Cartesian velocity interface takes it: the hand's velocity
    in the robot's base frame (``vx, vy, vz`` in m/s, ``wx, wy, wz`` in rad/s, over one control period)
    and a gripper position in [0, 1] (1 closed). Clamping damped least squares IK with a null-space pull
    toward the home posture (``clamped_dls``) turns it into joint position targets; the hand turns
    about the tool axis with the last joint. ``base_rot``: the base frame's axes in the world (set by a
    subclass whose base frame is turned from the world's)."""

    action_names = ("base_vx", "base_vy", "base_vz", "base_wx", "base_wy", "base_wz", "gripper_position")
    DT = 0.1  # control period (set by the env at bind time)
    action_low = np.array([-MAX_TRANSLATION / DT] * 3 + [-MAX_ROTATION / DT] * 3 + [0.0], dtype=np.float32)
    action_high = np.array([MAX_TRANSLATION / DT] * 3 + [MAX_ROTATION / DT] * 3 + [1.0], dtype=np.float32)
    POSTURE_GAIN = 0.05  # null-space pull toward the home posture per control step
    base_rot = np.eye(3)

    def apply(self, native: np.ndarray) -> None:
        dpos, drot = self.base_rot @ native[:3] * self.DT, self.base_rot @ native[3:6] * self.DT
        ee = self.ee_pos()
        self.target_pos = np.clip(self.target_pos + dpos, WORKSPACE_LOW, WORKSPACE_HIGH)
        self.target_pos = ee + np.clip(self.target_pos - ee, -0.05, 0.05)
        self.target_mat = geo.axis_angle_to_mat(drot) @ self.target_mat
        err = np.concatenate([self.target_pos - ee, geo.orientation_error(self.ee_mat(), self.target_mat)])
        self.q_cmd = self.q() + clamped_dls(self, err, self.POSTURE_GAIN)
        self._hold_command()
        self.set_gripper(2.0 * float(native[6]) - 1.0)

    def yaw_room(self) -> tuple[float, float]:
        return last_joint_yaw_room(self)

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        n = np.asarray(native, dtype=np.float64)
        twist = np.concatenate([self.base_rot @ n[:3], self.base_rot @ n[3:6]]) * self.DT
        return np.concatenate([twist, [2.0 * n[6] - 1.0]]).astype(np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        u = np.asarray(universal, dtype=np.float64)
        twist = np.concatenate([self.base_rot.T @ u[:3], self.base_rot.T @ u[3:6]]) / self.DT
        return np.concatenate([twist, [(u[6] + 1.0) / 2.0]]).astype(np.float32)


@EMBODIMENTS.register("panda")
class Panda(VelocityCommandedArm):
    """The Franka Emika Panda with its hand, from the model and meshes ``gymnasium-robotics`` ships
    (``hivla.sim.robot_assets``; the extra ``hivla[robots]``).

    Native action: a Cartesian velocity of the hand in the robot's base frame (``vx, vy, vz`` in m/s,
    ``wx, wy, wz`` in rad/s, over one control period) and a gripper position in [0, 1] (1 closed), as
    a Panda's Cartesian velocity interface takes it. A 7-DoF damped least squares IK with a null-space
    pull toward the home posture turns it into joint position targets (the real joint and torque limits).
    """

    name = "panda"
    description = (
        "Franka Emika Panda (7-DoF, its hand, collision meshes) driven by end-effector velocities in its "
        "base frame via redundant IK; gripper position in [0, 1] (extra hivla[robots])"
    )
    joint_names = tuple(f"panda_j{i}" for i in range(1, 8))
    hand_body = "panda_link7"
    finger_open = 0.04  # the Panda hand opens 8 cm
    hand_half_span = 0.105  # its hand is 21 cm across the fingers
    BASE_POS = (-0.51, 0.0, 0.0)  # at the back edge of the table: it reaches the button and the near objects
    HOME_YAW = 0.0
    # The Panda's joint torque limits (N m) and position gains of its seven joints.
    TORQUE = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
    KP = (870.0, 870.0, 870.0, 870.0, 120.0, 120.0, 120.0)
    # Joint damping and motor inertia: the model's own (100 / 10, no armature) lag so much at 10 Hz that
    # the hand sags 1.5 cm crossing at carry height; these keep it within 5 mm (measured on 66 steps).
    DAMPING = (40.0, 40.0, 40.0, 40.0, 5.0, 5.0, 5.0)
    ARMATURE = 0.1

    @classmethod
    def missing(cls) -> str | None:
        from hivla.sim.robot_assets import missing_reason

        return missing_reason()

    @classmethod
    def _mjcf(cls) -> tuple[str, str, list[str]]:
        from hivla.sim.robot_assets import panda_mjcf

        return panda_mjcf(" ".join(str(v) for v in cls.BASE_POS), cls.DAMPING, cls.ARMATURE)

    @classmethod
    def robot_sections(cls) -> str:
        return cls._mjcf()[0]

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        _, body, joints = cls._mjcf()
        acts = [
            f'<position name="{j}" joint="{j}" kp="{kp}" forcerange="-{tau} {tau}" inheritrange="1"/>'
            for j, kp, tau in zip(joints, cls.KP, cls.TORQUE, strict=True)
        ]
        fingers = "".join(
            f'<position name="finger_{s}" joint="finger_{s}" kp="300" ctrlrange="0 {cls.finger_open}" '
            f'forcerange="-20 20"/>'
            for s in ("left", "right")
        )
        return body, "\n    ".join(acts) + fingers

    def initial_guess(self) -> np.ndarray:
        return np.array([0.0, -0.3, 0.0, -2.2, 0.0, 0.4, 0.0])


@EMBODIMENTS.register("ur5")
class UR5(VelocityCommandedArm):
    """UR5 arm with the benchmark's parallel gripper: the Universal Robots UR5 built from the URDF and
    collision meshes ``example-robot-data`` ships (``hivla.sim.robot_assets.ur5_mjcf``; the extra
    ``hivla[robots]``), its tool flange carrying the home-made hand (``scene_xml.hand_xml``) since the
    package's UR5 has none.

    Native action: a Cartesian velocity of the hand in the robot's base frame (the UR controller's
    ``base``, turned half a turn from the mounting flange: ``vx, vy, vz`` in m/s, ``wx, wy, wz`` in
    rad/s, over one control period), as a UR's ``speedL`` takes it, and a gripper position in [0, 1]
    (1 closed). Damped least squares IK over its six joints (a joint the step would push past a limit
    is frozen and the others solve again) turns it into joint position targets (the real joint and
    torque limits).
    """

    name = "ur5"
    description = (
        "Universal Robots UR5 arm with the benchmark's parallel gripper (6-DoF, collision meshes) driven by "
        "end-effector velocities in its base frame via damped least squares IK; gripper position in [0, 1] "
        "(extra hivla[robots])"
    )
    joint_names = tuple(f"ur5_j{i}" for i in range(1, 7))
    hand_body = "ur5_wrist_3_link"  # the flange link, the hand and its fingers
    BASE_POS = (-0.51, 0.0, 0.0)  # at the back edge of the table
    BASE_YAW = 0.0
    HOME_YAW = 0.0
    KP = (1500.0, 1500.0, 1500.0, 280.0, 280.0, 280.0)  # position gains (N m/rad); torque limits: the URDF's
    DAMPING = (40.0, 40.0, 40.0, 5.0, 5.0, 5.0)
    ARMATURE = 0.1

    @classmethod
    def missing(cls) -> str | None:
        from hivla.sim.robot_assets import ur5_missing_reason

        return ur5_missing_reason()

    @classmethod
    def _mjcf(cls) -> tuple[str, str, list[str], list[float]]:
        from hivla.sim.robot_assets import ur5_mjcf

        pos = " ".join(str(v) for v in cls.BASE_POS)
        return ur5_mjcf(pos, cls.BASE_YAW, cls.DAMPING, cls.ARMATURE, hand_xml())

    @classmethod
    def robot_sections(cls) -> str:
        return cls._mjcf()[0]

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        _, body, joints, torques = cls._mjcf()
        acts = [
            f'<position name="{j}" joint="{j}" kp="{kp}" forcerange="-{tau:g} {tau:g}" inheritrange="1"/>'
            for j, kp, tau in zip(joints, cls.KP, torques, strict=True)
        ]
        return body, "\n    ".join(acts) + HAND_ACTUATORS

    def bind(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        mujoco.mj_kinematics(model, data)  # the base frame is fixed: read it once
        self.base_rot = data.site_xmat[model.site("ur5_base_frame").id].reshape(3, 3).copy()
        super().bind(model, data)

    def initial_guess(self) -> np.ndarray:
        return np.array([0.0, -1.2, 1.6, -1.9, -1.5708, 0.0])


# ---- the mobile manipulator ----------------------------------------------------------------------
BASE_HOME = (-0.66, 0.0)  # world xy of the mobile base's origin at reset: its column 2 cm behind the table
BASE_AREA_LOW = np.array([-0.95, -0.75])  # the floor area the base origin stays in (world xy, metres)
BASE_AREA_HIGH = np.array([BASE_HOME[0], 0.75])  # never closer to the table than at home
BASE_YAW_LIMIT = 0.6  # radians either way
MAX_BASE_SPEED = 0.3  # m/s along each axis of the base frame
MAX_BASE_TURN = 1.0  # rad/s
ARM_MOUNT = 0.16  # metres ahead of the base origin: where the arm stands (over the table edge)
HOME_MOUNT = np.array([BASE_HOME[0] + ARM_MOUNT, BASE_HOME[1]])  # the mount's world xy at home


def _mobile_base_xml(arm_body: str) -> str:
    """A holonomic base (world x, y slides and a yaw hinge) carrying an arm. The chassis runs under the
    table top; the column that lifts the arm stands behind the table edge, and both collide."""
    solid = 'contype="1" conaffinity="1" rgba="0.25 0.3 0.38 1"'
    look = 'contype="0" conaffinity="0" group="1"'
    wheels = "".join(
        f'<geom type="cylinder" size="0.05 0.02" pos="{x} {y} -0.7" euler="1.5708 0 0" rgba="0.1 0.1 0.1 1" {look}/>'
        for x in (-0.13, 0.13)
        for y in (-0.23, 0.23)
    )
    return f"""
    <body name="mobile_base" pos="{BASE_HOME[0]} {BASE_HOME[1]} 0">
      <inertial pos="0 0 -0.5" mass="25" diaginertia="1.5 1.5 1.0"/>
      <joint name="base_x" type="slide" axis="1 0 0" range="{BASE_AREA_LOW[0] - BASE_HOME[0]} {BASE_AREA_HIGH[0] - BASE_HOME[0]}" damping="3000" armature="5"/>
      <joint name="base_y" type="slide" axis="0 1 0" range="{BASE_AREA_LOW[1] - BASE_HOME[1]} {BASE_AREA_HIGH[1] - BASE_HOME[1]}" damping="3000" armature="5"/>
      <joint name="base_yaw" type="hinge" axis="0 0 1" range="-{BASE_YAW_LIMIT} {BASE_YAW_LIMIT}" damping="600" armature="1"/>
      <geom name="base_chassis" type="box" size="0.2 0.22 0.05" pos="0 0 -0.66" {solid}/>
      <geom name="base_column" type="box" size="0.06 0.07 0.31" pos="0.03 0 -0.33" {solid}/>
      <geom type="box" size="0.09 0.05 0.004" pos="0.1 0 0.004" rgba="0.25 0.3 0.38 1" {look}/>
      {wheels}
      {arm_body}
    </body>"""


@EMBODIMENTS.register("mobile")
class Mobile(CartesianTargetArm):
    """A mobile manipulator: a holonomic wheeled base (x, y, yaw) with the 6-DoF arm of ``arm6`` on it.

    Native action (10): the hand's motion in the base frame (``arm_dx, arm_dy, arm_dz`` metres,
    ``arm_drx, arm_dry, arm_drz`` radians per control step), the gripper in [-1, 1] (+1 closes), and
    the base's velocity in its own frame (``drive_vx`` forward, ``drive_vy`` left, m/s; ``drive_wz``
    rad/s). The base follows position targets integrated from the velocity, kept inside its floor
    area (``BASE_AREA_LOW``/``HIGH``, never nearer the table than at home) and yaw limit; the arm
    tracks a world-frame target of the hand with Jacobian IK, so a still hand stays put while the
    base drives under it, within the arm's workspace box, which moves and turns with the base.

    Universal action (10): the hand's world motion per step, the gripper, and the base's world motion
    per step (``hivla.types``).
    """

    name = "mobile"
    description = (
        "mobile manipulator: a holonomic wheeled base (x, y, yaw) carrying a 6-DoF arm; hand deltas in the "
        "base frame, base velocities (m/s, rad/s) in the base frame"
    )
    has_base = True
    joint_names = tuple(f"mob_j{i}" for i in range(1, 7))
    base_joints = ("base_x", "base_y", "base_yaw")
    action_names = (
        "arm_dx", "arm_dy", "arm_dz", "arm_drx", "arm_dry", "arm_drz", "gripper",
        "drive_vx", "drive_vy", "drive_wz",
    )  # fmt: skip
    action_low = np.array(
        [-MAX_TRANSLATION] * 3 + [-MAX_ROTATION] * 3 + [-1.0] + [-MAX_BASE_SPEED] * 2 + [-MAX_BASE_TURN],
        dtype=np.float32,
    )
    action_high = -action_low
    DT = 0.1  # control period (set by the env at bind time)
    HOME_YAW = np.pi  # as arm6: keeps the tool roll joint mid-range
    base_area_low, base_area_high = BASE_AREA_LOW, BASE_AREA_HIGH  # the safety filter keeps the base inside
    base_action_indices = (7, 8, 9)  # the native dims of the base velocity (forward, left, turn)
    base_yaw_limit = BASE_YAW_LIMIT

    @classmethod
    def robot_xml(cls) -> tuple[str, str]:
        arm, arm_acts = _arm_xml(f"{ARM_MOUNT} 0 0", 0.0, list(ARM6_LINKS), "mob")
        lo, hi = BASE_AREA_LOW - np.asarray(BASE_HOME), BASE_AREA_HIGH - np.asarray(BASE_HOME)
        drive = (
            f'<position name="base_x" joint="base_x" kp="40000" ctrlrange="{lo[0]} {hi[0]}" forcerange="-3000 3000"/>'
            f'<position name="base_y" joint="base_y" kp="40000" ctrlrange="{lo[1]} {hi[1]}" forcerange="-3000 3000"/>'
            f'<position name="base_yaw" joint="base_yaw" kp="8000" ctrlrange="-{BASE_YAW_LIMIT} {BASE_YAW_LIMIT}" forcerange="-1500 1500"/>'
        )
        return _mobile_base_xml(arm), "\n    " + drive + "\n    " + arm_acts

    def initial_guess(self) -> np.ndarray:
        return np.array([0.0, 0.4, 1.6, 0.0, 1.1, 0.0])

    def bind(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        self.base_qadr = np.array([model.joint(j).qposadr[0] for j in self.base_joints])
        self.base_act = np.array([model.actuator(j).id for j in self.base_joints])
        self.base_cmd = np.zeros(3)
        super().bind(model, data)

    @property
    def state_names(self) -> tuple[str, ...]:
        return (*super().state_names, "base_x", "base_y", "base_yaw")

    # ---- the base ------------------------------------------------------------------------------
    def base_pose(self) -> np.ndarray:
        """(x, y, yaw) of the base origin in the world (metres, radians)."""
        q = self.data.qpos[self.base_qadr]
        return np.array([BASE_HOME[0] + q[0], BASE_HOME[1] + q[1], q[2]])

    def mount_xy(self) -> np.ndarray:
        """World xy of the arm's mount (its first joint)."""
        return self._mount(self.data.qpos[self.base_qadr])[0]

    def to_arm_frame(self, point: np.ndarray, q_base: np.ndarray | None = None) -> np.ndarray:
        """World xyz -> where it would be for the fixed arms (mount at home, yaw 0), whose workspace box
        (``WORKSPACE_LOW``/``HIGH``) the arm keeps: the box turns and moves with the base. ``q_base``:
        the base's joint values (x, y, yaw from home) to use instead of the current ones."""
        q = self.data.qpos[self.base_qadr] if q_base is None else np.asarray(q_base, np.float64)
        mount, yaw = self._mount(q)
        p = np.asarray(point, np.float64)
        xy = geo.rot_z(-yaw)[:2, :2] @ (p[:2] - mount) + HOME_MOUNT
        return np.r_[xy, p[2]]

    def from_arm_frame(self, point: np.ndarray, q_base: np.ndarray | None = None) -> np.ndarray:
        """The inverse of ``to_arm_frame``."""
        q = self.data.qpos[self.base_qadr] if q_base is None else np.asarray(q_base, np.float64)
        mount, yaw = self._mount(q)
        p = np.asarray(point, np.float64)
        return np.r_[geo.rot_z(yaw)[:2, :2] @ (p[:2] - HOME_MOUNT) + mount, p[2]]

    def _mount(self, q_base: np.ndarray) -> tuple[np.ndarray, float]:
        """World xy of the arm's mount and the base's yaw for base joint values ``q_base``."""
        yaw = float(q_base[2])
        base_xy = np.asarray(BASE_HOME) + q_base[:2]
        return base_xy + ARM_MOUNT * np.array([np.cos(yaw), np.sin(yaw)]), yaw

    def in_reach(self, point: np.ndarray) -> bool:
        """Whether the hand can get to ``point`` (world xyz) without moving the base."""
        p = self.to_arm_frame(point)
        return bool(np.all(p >= WORKSPACE_LOW) and np.all(p <= WORKSPACE_HIGH))

    def reset(self) -> None:
        self.data.qpos[self.base_qadr] = 0.0
        self.base_cmd = np.zeros(3)
        self.data.ctrl[self.base_act] = 0.0
        super().reset()

    def state(self) -> np.ndarray:
        return np.concatenate([super().state(), self.base_pose()]).astype(np.float32)

    def controller_state(self) -> np.ndarray:
        return np.concatenate([super().controller_state(), self.base_cmd])

    def set_controller_state(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64)
        super().set_controller_state(state[:-3])
        self.base_cmd = state[-3:].copy()

    # ---- actions -------------------------------------------------------------------------------
    def apply(self, native: np.ndarray) -> None:
        turn = geo.rot_z(self.base_pose()[2])
        # The base: integrate the velocity into position targets inside the floor area.
        step = np.r_[turn[:2, :2] @ native[7:9], native[9]] * self.DT  # world frame
        home = np.array([BASE_HOME[0], BASE_HOME[1], 0.0])
        low = np.r_[BASE_AREA_LOW, -BASE_YAW_LIMIT] - home
        high = np.r_[BASE_AREA_HIGH, BASE_YAW_LIMIT] - home
        q_base = self.data.qpos[self.base_qadr]
        self.base_cmd = np.clip(self.base_cmd + step, low, high)
        self.base_cmd = np.clip(self.base_cmd, q_base - 0.1, q_base + 0.1)  # no wind-up when blocked
        self.data.ctrl[self.base_act] = self.base_cmd
        # The arm: a world-frame hand target inside the workspace box as the base will stand after this
        # step, reached from where the base carries the hand (its translation and turn this step).
        dpos, drot = turn @ native[:3], turn @ native[3:6]
        spin = geo.rot_z(self.base_cmd[2] - q_base[2])
        ee = self.ee_pos()
        base_now, base_next = np.asarray(BASE_HOME) + q_base[:2], np.asarray(BASE_HOME) + self.base_cmd[:2]
        carried = np.r_[spin[:2, :2] @ (ee[:2] - base_now) + base_next, ee[2]]
        wanted = self.to_arm_frame(self.target_pos + dpos, self.base_cmd)
        self.target_pos = self.from_arm_frame(np.clip(wanted, WORKSPACE_LOW, WORKSPACE_HIGH), self.base_cmd)
        self.target_pos = carried + np.clip(self.target_pos - carried, -0.05, 0.05)
        self.target_mat = geo.axis_angle_to_mat(drot) @ self.target_mat
        err = np.concatenate(
            [self.target_pos - carried, geo.orientation_error(spin @ self.ee_mat(), self.target_mat)]
        )
        jac = self.jacobian()
        jac = np.vstack([spin @ jac[:3], spin @ jac[3:]])  # the arm's joints act in the turned base
        self.q_cmd = self.q() + dls(jac, err, 0.02)
        self._hold_command()
        self.set_gripper(float(native[6]))

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        n = np.asarray(native, dtype=np.float64)
        turn = geo.rot_z(self.base_pose()[2])
        base = np.r_[turn[:2, :2] @ n[7:9], n[9]] * self.DT
        return np.concatenate([turn @ n[:3], turn @ n[3:6], [n[6]], base]).astype(np.float32)

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        """Universal float[10] (the env pads 7 values with a still base) -> native float[10]."""
        u = np.asarray(universal, dtype=np.float64)
        turn = geo.rot_z(self.base_pose()[2])
        drive = np.r_[turn[:2, :2].T @ u[7:9], u[9]] / self.DT
        return np.concatenate([turn.T @ u[:3], turn.T @ u[3:6], [u[6]], drive]).astype(np.float32)
