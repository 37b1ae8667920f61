"""Scripted experts: solve every primitive and chain from privileged state, and say why.

The expert plans in the universal action space (world-frame end-effector deltas, see
``hivla.types``) and converts to the embodiment's native action, so one script serves every
embodiment; per-embodiment differences live in the embodiments' mappings and in ``ExpertParams``.
Each subtask is a short list of phases (move above, descend, close, lift, ...) recomputed from live
state every step; a phase that times out restarts its subtask (retry).

``act`` follows its plan through time (the demonstrations ``hivla collect`` records). ``label``
answers for any state, however it was reached (a learned policy's, a perturbed one): it plans the
subtask from the state and resumes at the phase the scene shows, so it can relabel visited states
(DAgger) and take over from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hivla.sim import catalogue as cat
from hivla.sim import geometry as geo
from hivla.sim.env import TabletopEnv
from hivla.types import Annotation, Subtask, describe_motion, describe_offset

SAFE_Z = 0.17  # carry height of the grasp point: above the cabinet and any object in a bowl
PUSH_Z = 0.025
ALIGNED_XY = 0.012  # label(): the hand counts as above its target within this horizontal distance
AT_HEIGHT = 0.02  # label(): ... and at a phase's height within this vertical distance
OPEN_WIDTH = 0.03  # label(): fingers wider than this count as open
FINGER_REACH = 0.06  # label(): below this height above its grasp point the fingers can touch an object
HAND_CLEARANCE = 0.015  # a grasp yaw is clear when the hand keeps this far from everything else


@dataclass(frozen=True)
class ExpertParams:
    max_step: float = 0.025  # metres per control step
    max_rot: float = 0.2  # radians per control step
    tol: float = 0.008
    phase_timeout: int = 45
    base_step: float = 0.025  # a wheeled base: metres per control step, driven only while the hand's
    base_reach: float = 0.2  # goal is further than this sideways of the arm's mount
    push_lead: float = 0.012  # metres the push goal leads the contact point (sets the push speed)


# A body with a wheeled base crosses the long table in one phase (give a phase time for that) and
# pushes a little faster (the long table's pushes run up to a metre).
MOBILE_PARAMS = ExpertParams(phase_timeout=100, push_lead=0.02)


@dataclass
class Phase:
    """Move the grasp point to ``goal()`` with gripper ``grip``; done when ``done()`` (default: at goal)."""

    name: str
    goal: Callable[[], np.ndarray]
    grip: float  # -1 open, +1 close
    target: str
    done: Callable[[], bool] | None = None
    wait: int = 0  # hold still for at most this many steps (gripper actions); ``done`` may end it sooner
    yaw: Callable[[], float] | None = None


@dataclass(frozen=True)
class ExpertState:
    """Where a :class:`ScriptedExpert` is within its plan: ``get_state()`` / ``set_state()`` snapshot and
    restore it (with the env's own state) to look ahead, rewind, or act from any saved state."""

    subtask_index: int
    phases: tuple[Phase, ...]
    phase_steps: int
    yaw: float | None
    explicit: Subtask | None = None


class ScriptedExpert:
    """Privileged-state expert for :class:`TabletopEnv`. ``act(obs, info) -> (native action, Annotation)``."""

    def __init__(self, env: TabletopEnv, params: ExpertParams | None = None) -> None:
        self.env = env
        self.p = params or (MOBILE_PARAMS if env.embodiment.has_base else ExpertParams())
        self.reset()

    def reset(self) -> None:
        self._subtask_index = -1
        self._phases: list[Phase] = []
        self._phase_steps = 0
        self._yaw: float | None = None
        self._explicit: Subtask | None = None

    def get_state(self) -> ExpertState:
        """A snapshot of the expert's progress through its plan (phases are bound to this env)."""
        return ExpertState(
            self._subtask_index, tuple(self._phases), self._phase_steps, self._yaw, self._explicit
        )

    def set_state(self, state: ExpertState) -> None:
        """Continue from a :meth:`get_state` snapshot (restore the env's state alongside)."""
        self._subtask_index, self._phase_steps, self._yaw = state.subtask_index, state.phase_steps, state.yaw
        self._phases, self._explicit = list(state.phases), state.explicit

    # ---- main loop -----------------------------------------------------------------------------
    def act(self, obs: dict[str, Any] | None = None, info: dict[str, Any] | None = None):
        env = self.env
        index = min(env.subtask_index, len(env.spec.subtasks) - 1)
        sub = env.spec.subtasks[index]
        if index != self._subtask_index or not self._phases:
            self._subtask_index = index
            self._start(sub)
        phase = self._current_phase(sub)
        universal = self._universal(phase)
        return env.from_universal(universal), self._annotate(sub, phase, universal)

    def act_on(self, sub: Subtask):
        """Act for an explicit subtask (e.g. one a planner chose), not the env's current one."""
        if sub != self._explicit or not self._phases:
            self._explicit = sub
            self._start(sub)
        universal = self._universal(self._current_phase(sub))
        return self.env.from_universal(universal), self._annotate(sub, self._phases[0], universal)

    def universal_action(self) -> np.ndarray:
        """The next action in the universal space (for tests and cross-embodiment data)."""
        sub = self.env.spec.subtasks[min(self.env.subtask_index, len(self.env.spec.subtasks) - 1)]
        if self.env.subtask_index != self._subtask_index or not self._phases:
            self._subtask_index = self.env.subtask_index
            self._start(sub)
        return self._universal(self._current_phase(sub))

    def label(self, obs: dict[str, Any] | None = None, sub: Subtask | None = None):
        """``(native action, Annotation)`` for the current state, whatever led to it.

        The subtask (the env's current one, or ``sub``) is planned from this state and resumed at the
        phase the scene shows (:meth:`resume_phase`): holding the object, above it, at the handle, ...
        Nothing from earlier calls is used, so a state reached by a learned or perturbed policy gets
        the same label as one the expert reached itself.
        """
        env = self.env
        if sub is None:
            sub = env.spec.subtasks[min(env.subtask_index, len(env.spec.subtasks) - 1)]
        self._yaw, self._explicit, self._subtask_index = None, sub, env.subtask_index
        phases = self._plan(sub)
        self._phases, self._phase_steps = phases[self.resume_phase(sub, phases) :], 0
        universal = self._universal(self._current_phase(sub))
        return env.from_universal(universal), self._annotate(sub, self._phases[0], universal)

    def resume_phase(self, sub: Subtask, phases: list[Phase]) -> int:
        """Index of the phase of ``phases`` (a plan made now for ``sub``) that the scene shows."""
        names = [p.name for p in phases]
        held = self.env.grasped()
        if sub.kind in ("place", "stack") and held == sub.obj:
            return self._resume_place(phases, names)
        if sub.kind in ("place", "stack") and self._released_over_target(sub):
            return len(names) - 1  # "retreat": let it settle, open, clear of it
        if sub.kind in ("pick", "place", "stack"):
            return self._resume_pick(sub.obj, names, phases)
        if sub.kind == "push":
            return self._resume_push(sub, phases, names)
        if sub.kind in ("open_drawer", "close_drawer"):
            return self._resume_reach(phases, names, names[3], lowered=0.05)
        return self._resume_reach(phases, names, "press", lowered=None)

    def _resume_pick(self, name: str, names: list[str], phases: list[Phase]) -> int:
        env, ee = self.env, self._ee()
        pos = env.object_pos(name)
        if env.grasped() == name:  # lifted high enough (the lift phase's own test): hold, else lift
            return names.index("hold" if phases[names.index("lift")].done() else "lift")
        grasp_z = phases[names.index("descend")].goal()[2]
        off = float(np.linalg.norm(ee[:2] - pos[:2]))
        at_grasp = off < ALIGNED_XY and ee[2] < grasp_z + self.p.tol
        closed = env.embodiment.gripper_width() < OPEN_WIDTH
        if at_grasp and (not closed or env.touching_hand(name)):
            return names.index("close")  # close, or keep squeezing until both fingers hold it
        yaw = phases[names.index("descend")].yaw
        turned = yaw is not None and abs(geo.wrap_angle(self._hand_yaw() - yaw(), np.pi)) > 0.15
        near_top = ee[2] < grasp_z + FINGER_REACH  # the fingers can touch the object from here
        if off < ALIGNED_XY and ee[2] < SAFE_Z + AT_HEIGHT:
            if not near_top or (off < self.p.tol and not turned) or at_grasp:
                return names.index("descend")  # also re-opens fingers that closed on nothing
            return names.index("hover")  # low but off the grasp: up, over, down again
        return names.index("move above" if abs(ee[2] - SAFE_Z) < AT_HEIGHT else "hover")

    def _released_over_target(self, sub: Subtask) -> bool:
        env = self.env
        base = env.object_slot(sub.target)
        offset = np.linalg.norm(env.object_pos(sub.obj)[:2] - env.object_pos(sub.target)[:2])
        return bool(offset < base.size[0]) and env.embodiment.gripper_width() > OPEN_WIDTH

    def _resume_place(self, phases: list[Phase], names: list[str]) -> int:
        ee = self._ee()
        release = phases[names.index("lower")].goal()
        over = np.linalg.norm(ee[:2] - release[:2]) < ALIGNED_XY
        if over and ee[2] < release[2] + AT_HEIGHT / 2:
            return names.index("release")
        if over:
            return names.index("lower")
        return names.index("carry above" if ee[2] > SAFE_Z - AT_HEIGHT else "rise")

    def _resume_push(self, sub: Subtask, phases: list[Phase], names: list[str]) -> int:
        env, ee = self.env, self._ee()
        behind = phases[names.index("descend")].goal()  # (x, y) behind the object, at PUSH_Z
        lateral, along = self._push_line(sub.obj)
        footprint = env.object_slot(sub.obj).footprint
        on_line_behind = lateral < 0.025 and along < -0.5 * footprint
        if abs(ee[2] - PUSH_Z) < self.p.tol + 0.004 and on_line_behind:
            return names.index("push")
        if np.linalg.norm(ee[:2] - behind[:2]) < ALIGNED_XY and ee[2] > PUSH_Z:
            return names.index("descend")
        return names.index("move behind" if ee[2] > SAFE_Z - AT_HEIGHT else "rise")

    def _resume_reach(self, phases: list[Phase], names: list[str], act: str, lowered: float | None) -> int:
        """Drawer and button plans: rise, move above the spot, descend onto it, then ``act``."""
        ee = self._ee()
        spot = phases[1].goal()  # above the handle slot / the button
        if lowered is not None and abs(ee[2] - lowered) < AT_HEIGHT / 2 and abs(ee[1] - spot[1]) < ALIGNED_XY:
            between = sorted((spot[0], phases[names.index(act)].goal()[0]))
            if between[0] - ALIGNED_XY < ee[0] < between[1] + ALIGNED_XY:
                return names.index(act)
        if np.linalg.norm(ee[:2] - spot[:2]) < ALIGNED_XY and ee[2] < SAFE_Z + AT_HEIGHT:
            return 2  # "descend" onto the handle slot / "press" the button
        return 1 if ee[2] > SAFE_Z - AT_HEIGHT else 0

    def _start(self, sub: Subtask) -> None:
        self._phases = self._plan(sub)
        self._phase_steps = 0

    def _current_phase(self, sub: Subtask) -> Phase:
        while True:
            phase = self._phases[0]
            finished = phase.done() if phase.done else self._at(phase)
            if phase.wait:
                finished = self._phase_steps >= phase.wait or (phase.done is not None and finished)
            if finished and len(self._phases) > 1:
                self._phases.pop(0)
                self._phase_steps = 0
                continue
            if finished:  # plan ran out but the subtask is not done: plan again from the new state
                self._start(sub)
                phase = self._phases[0]
            if self._phase_steps > self.p.phase_timeout:  # stuck: re-plan the subtask from here
                self._start(sub)
                return self._phases[0]
            self._phase_steps += 1
            return phase

    def _at(self, phase: Phase) -> bool:
        ee = self.env.embodiment.ee_pos()
        yaw_ok = phase.yaw is None or abs(geo.wrap_angle(self._hand_yaw() - phase.yaw(), np.pi)) < 0.08
        return bool(np.linalg.norm(phase.goal() - ee) < self.p.tol) and yaw_ok

    def _hand_yaw(self) -> float:
        return geo.yaw_of_tool(self.env.embodiment.ee_mat())

    def _universal(self, phase: Phase) -> np.ndarray:
        emb = self.env.embodiment
        delta = phase.goal() - emb.ee_pos()
        norm = np.linalg.norm(delta)
        if norm > self.p.max_step:
            delta *= self.p.max_step / norm
        if phase.wait:
            delta = np.zeros(3)
        if phase.yaw is not None:  # the hand is symmetric under half turns: take the nearest equivalent
            current = self._hand_yaw()
            turn = geo.wrap_angle(phase.yaw() - current, np.pi)
            down, up = emb.yaw_room()  # a wrist joint near its limit: turn the other way round
            if turn > up - 0.1:
                turn -= np.pi
            elif turn < -(down - 0.1):
                turn += np.pi
            self._yaw = current + turn
        yaw = self._hand_yaw() if self._yaw is None else self._yaw
        rot = geo.orientation_error(emb.ee_mat(), geo.rot_z(yaw) @ geo.R_DOWN)
        rn = np.linalg.norm(rot)
        if rn > self.p.max_rot:
            rot *= self.p.max_rot / rn
        out = np.concatenate([delta, rot, [phase.grip]])
        if emb.has_base:
            out = np.concatenate([out, np.zeros(3) if phase.wait else self._base_motion(phase.goal())])
        return out.astype(np.float32)

    def _base_motion(self, goal: np.ndarray) -> np.ndarray:
        """The base part (world motion per step) that brings the arm beside ``goal``: the base drives
        along the table only while the goal is more than ``base_reach`` sideways of the arm's mount,
        returns to its home distance from the table and to yaw 0; the arm does the rest."""
        emb, step = self.env.embodiment, self.p.base_step
        x, _, yaw = emb.base_pose()
        side = goal[1] - emb.mount_xy()[1]
        excess = side - np.clip(side, -self.p.base_reach, self.p.base_reach)
        home_x = emb.base_area_high[0]
        return np.array(
            [np.clip(home_x - x, -step, step), np.clip(excess, -step, step), np.clip(-yaw, -0.1, 0.1)]
        )

    # ---- plans ---------------------------------------------------------------------------------
    def _plan(self, sub: Subtask) -> list[Phase]:
        env = self.env
        holding = env.grasped()
        if sub.kind in ("place", "stack") and holding != sub.obj:
            return self._pick_phases(sub.obj, sub) + self._place_phases(sub)  # dropped it: pick again
        return {
            "pick": lambda: self._pick_phases(sub.obj, sub),
            "place": lambda: self._place_phases(sub),
            "stack": lambda: self._place_phases(sub),
            "push": lambda: self._push_phases(sub),
            "open_drawer": lambda: self._drawer_phases(opening=True),
            "close_drawer": lambda: self._drawer_phases(opening=False),
            "press_button": lambda: self._button_phases(),
        }[sub.kind]()

    def _rise(self, grip: float, target: str) -> Phase:
        """Straight up to ``SAFE_Z``. A hand to be closed that starts open and holding nothing has just
        let an object go, which may still stand between its fingers: it rises open (the next phase
        closes it), since closing at once would carry that object away."""
        emb = self.env.embodiment
        ee = emb.ee_pos()
        if grip > 0 and emb.gripper_width() > OPEN_WIDTH and self.env.grasped() is None:
            grip = -1.0
        z = max(SAFE_Z, ee[2])
        return Phase(
            "rise",
            lambda: np.array([ee[0], ee[1], z]),
            grip,
            target,
            done=lambda: self._ee()[2] > SAFE_Z - 0.02,
        )

    def _hover(self, grip: float, target: str) -> Phase:
        """Straight up or down to ``SAFE_Z``. The approach that follows runs level, so only the
        images, never the hand's height, tell a policy when it is above its target."""
        ee = self._ee()
        return Phase("hover", lambda: np.array([ee[0], ee[1], SAFE_Z]), grip, target)

    def _ee(self) -> np.ndarray:
        return self.env.embodiment.ee_pos()

    def _grasp_yaw(self, name: str) -> float:
        """Hand yaw that closes the fingers across the object, nearest the current yaw: on a cube's
        faces (whichever face is up), across a cylinder lying on its side, anything for an upright one."""
        env = self.env
        current = self._hand_yaw() if self._yaw is None else self._yaw
        mat = env.data.xmat[env.slot_body[env.slot_of(name)]].reshape(3, 3)
        if env.object_slot(name).shape == "cube":
            axis = mat[:, int(np.argmin(np.abs(mat[2])))]  # the most horizontal face normal
            face = float(np.arctan2(axis[1], axis[0]))
            nearest = current + geo.wrap_angle(face - current, np.pi / 2)
            return self._clear_yaw(name, [nearest, nearest + np.pi / 2])
        axis = mat[:, 2]
        if abs(axis[2]) > 0.7:  # upright cylinder
            return self._clear_yaw(name, [current + k * np.pi / 4 for k in range(4)])
        along = float(np.arctan2(axis[1], axis[0]))  # hand x along the lying cylinder's axis
        return current + geo.wrap_angle(along - current, np.pi)

    def _clear_yaw(self, name: str, yaws: list[float]) -> float:
        """The first of ``yaws`` (the nearest grasp) whose hand, spanning ``hand_half_span`` either side
        along the finger axis, keeps ``HAND_CLEARANCE`` from the other objects, the drawer and the
        button; else the clearest. A wide hand (the Panda's) otherwise lands on a bowl's rim or the
        drawer handle beside the object; the home-made hand almost always takes the first."""
        span = self.env.embodiment.hand_half_span
        clearance = [self._hand_clearance(name, yaw, span) for yaw in yaws]
        for yaw, c in zip(yaws, clearance, strict=True):
            if c >= HAND_CLEARANCE:
                return yaw
        return yaws[int(np.argmax(clearance))]

    def _hand_clearance(self, name: str, yaw: float, span: float) -> float:
        """Smallest gap (m, horizontal) between the hand's finger-axis segment over object ``name`` at
        ``yaw`` and anything else on the table (objects, bowl rims, drawer, button)."""
        env = self.env
        centre = env.object_pos(name)[:2]
        fingers = np.array([-np.sin(yaw), np.cos(yaw)])  # the tool's y axis when pointing down
        ts = np.linspace(-span, span, 9)
        points = centre[None, :] + ts[:, None] * fingers[None, :]  # (9, 2)
        gaps = [np.inf]
        for o in env.spec.objects:
            if o.name == name:
                continue
            slot = env.object_slot(o.name)
            d = np.linalg.norm(points - env.object_pos(o.name)[:2], axis=1)
            gaps.append(float(np.min(np.abs(d - slot.size[0]) if slot.receptacle else d - slot.footprint)))
        y = cat.DRAWER_POS[1]
        front = self._handle_x() - 0.01  # the handle, the drawer front and the cabinet behind them
        gaps.append(
            float(
                np.min(
                    np.hypot(
                        np.maximum(front - points[:, 0], 0), np.maximum(np.abs(points[:, 1] - y) - 0.09, 0)
                    )
                )
            )
        )
        gaps.append(float(np.min(np.linalg.norm(points - np.asarray(cat.BUTTON_POS), axis=1) - 0.05)))
        return min(gaps)

    def _pick_phases(self, name: str, sub: Subtask) -> list[Phase]:
        env = self.env
        slot = env.object_slot(name)
        yaw = self._grasp_yaw(name)

        def above() -> np.ndarray:
            p = env.object_pos(name)
            return np.array([p[0], p[1], SAFE_Z])

        def grasp_point() -> np.ndarray:
            p = env.object_pos(name)
            return np.array([p[0], p[1], max(p[2], 0.026)])

        def lifted() -> bool:
            return env.grasped() == name and env.object_pos(name)[2] > slot.rest_height + 0.07

        def gripped() -> bool:  # both fingers on the object after two closing steps: lift now, so
            # that the state (gripper width settled on the object) tells a policy when to lift
            return self._phase_steps >= 2 and env.grasped() == name

        return [
            self._hover(-1.0, name),
            Phase("move above", above, -1.0, name, yaw=lambda: yaw),
            Phase("descend", grasp_point, -1.0, name, yaw=lambda: yaw),
            Phase("close", grasp_point, 1.0, name, done=gripped, wait=6),
            Phase("lift", lambda: np.r_[grasp_point()[:2], SAFE_Z], 1.0, name, done=lifted),
            Phase("hold", lambda: np.r_[self._ee()[:2], SAFE_Z], 1.0, name),
        ]

    def _place_phases(self, sub: Subtask) -> list[Phase]:
        env = self.env
        obj = env.object_slot(sub.obj)
        base = env.object_slot(sub.target)

        def release_point() -> np.ndarray:
            t = env.object_pos(sub.target)
            surface = t[2] + (base.size[2] if sub.kind == "stack" else base.top_height)
            # The grasp point sits at the held object's centre (or above it for short objects).
            held_offset = self._ee()[2] - env.object_pos(sub.obj)[2]
            return np.array([t[0], t[1], surface + obj.rest_height + held_offset + 0.012])

        yaw_fn = None
        if sub.kind == "stack":
            start_yaw = self._hand_yaw()
            turn = geo.wrap_angle(env.object_yaw(sub.target) - env.object_yaw(sub.obj), np.pi / 2)
            yaw_fn = lambda: start_yaw + turn  # noqa: E731

        return [
            self._rise(1.0, sub.obj),
            Phase("carry above", lambda: np.r_[release_point()[:2], SAFE_Z], 1.0, sub.target, yaw=yaw_fn),
            Phase("lower", release_point, 1.0, sub.target),
            Phase("release", release_point, -1.0, sub.target, wait=5),
            Phase("retreat", lambda: np.r_[self._ee()[:2], SAFE_Z], -1.0, sub.target),
        ]

    def _push_phases(self, sub: Subtask) -> list[Phase]:
        env = self.env
        slot = env.object_slot(sub.obj)
        standoff = slot.footprint + 0.025

        def direction() -> np.ndarray:
            return self._push_direction(sub.obj)

        start = env.object_pos(sub.obj)[:2] - direction() * standoff

        def behind() -> np.ndarray:
            return np.r_[start, PUSH_Z]

        def push_goal() -> np.ndarray:
            obj = env.object_pos(sub.obj)[:2]
            d = direction()
            contact = obj - d * (slot.footprint + 0.008)
            return np.r_[contact + d * self.p.push_lead, PUSH_Z]

        def off_line() -> bool:
            lateral, along = self._push_line(sub.obj)
            return lateral > 0.025 or along > 0.0

        yaw = float(np.arctan2(direction()[1], direction()[0]))
        return [
            self._rise(1.0, sub.obj),
            Phase("move behind", lambda: np.r_[start, SAFE_Z], 1.0, sub.obj, yaw=lambda: yaw),
            Phase("descend", behind, 1.0, sub.obj),
            Phase("push", push_goal, 1.0, "the square", done=off_line),
            Phase("back off", lambda: np.r_[self._ee()[:2], SAFE_Z], 1.0, sub.obj),
        ]

    def _push_direction(self, name: str) -> np.ndarray:
        """Unit vector (x, y) from object ``name`` toward the push zone."""
        d = np.asarray(self.env.spec.zone_xy) - self.env.object_pos(name)[:2]
        return d / max(np.linalg.norm(d), 1e-6)

    def _push_line(self, name: str) -> tuple[float, float]:
        """The hand against the line through object ``name`` toward the zone: (distance off the line,
        distance along it past the object's centre; negative behind it)."""
        d = self._push_direction(name)
        rel = self._ee()[:2] - self.env.object_pos(name)[:2]
        return abs(rel[0] * d[1] - rel[1] * d[0]), float(rel @ d)

    def _handle_x(self) -> float:
        return cat.DRAWER_POS[0] - 0.157 - self.env.drawer_q()

    def _drawer_phases(self, opening: bool) -> list[Phase]:
        env = self.env
        y = cat.DRAWER_POS[1]
        z = 0.05
        # Opening hooks the closed fingers into the gap behind the handle; closing pushes the handle.
        slot_x = (lambda: self._handle_x() + 0.036) if opening else (lambda: self._handle_x() - 0.027)
        goal_q = 0.112 if opening else -0.01
        end_x = slot_x() - (goal_q - env.drawer_q())
        done = (lambda: env.drawer_q() > 0.105) if opening else (lambda: env.drawer_q() < 0.008)
        return [
            self._rise(1.0, "drawer handle"),
            Phase(
                "move to handle",
                lambda: np.array([slot_x(), y, SAFE_Z]),
                1.0,
                "drawer handle",
                yaw=lambda: 0.0,
            ),
            Phase("descend", lambda: np.array([slot_x(), y, z]), 1.0, "drawer handle"),
            Phase(
                "pull" if opening else "push",
                lambda: np.array([end_x, y, z]),
                1.0,
                "drawer handle",
                done=done,
            ),
            Phase("retreat", lambda: np.r_[self._ee()[:2], SAFE_Z], 1.0, "drawer handle"),
        ]

    def _button_phases(self) -> list[Phase]:
        env = self.env
        x, y = cat.BUTTON_POS
        return [
            self._rise(1.0, "button"),
            Phase("move above", lambda: np.array([x, y, SAFE_Z]), 1.0, "button"),
            Phase("press", lambda: np.array([x, y, 0.05]), 1.0, "button", done=lambda: env.button_pressed),
            Phase("retreat", lambda: np.array([x, y, SAFE_Z]), 1.0, "button"),
        ]

    # ---- annotation ----------------------------------------------------------------------------
    def _annotate(self, sub: Subtask, phase: Phase, universal: np.ndarray) -> Annotation:
        target_pos = self._target_pos(phase.target)
        rel = target_pos - self._ee()
        return Annotation(
            subtask=sub.text,
            target=phase.target,
            relative=describe_offset(rel),
            primitive=describe_motion(universal[:3], phase.name),
            gripper="close" if phase.grip > 0 else "open",
            position=tuple(float(v) for v in target_pos),
        )

    def _target_pos(self, target: str) -> np.ndarray:
        env = self.env
        if env.is_object(target):
            return env.object_pos(target)
        if target == "the square":
            return np.r_[env.spec.zone_xy, 0.0]
        if target == "drawer handle":
            return np.array([self._handle_x(), cat.DRAWER_POS[1], 0.055])
        return np.array([*cat.BUTTON_POS, 0.06])
