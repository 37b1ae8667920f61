"""The built-in MuJoCo tabletop environment (gymnasium API).

One env instance compiles one model (scene + object pool + one embodiment) and keeps one offscreen
renderer. ``reset(seed=...)`` samples the episode for the suite and seed (objects, colours, poses,
drawer state, push square, chain of subtasks, instruction), applies the shifts, and settles the
scene. The current subtask advances when its predicate holds; the chain succeeds when all do.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from hivla.errors import HivlaError
from hivla.sim import camera_geometry as camgeo
from hivla.sim import catalogue as cat
from hivla.sim import spatial
from hivla.sim.embodiments import EMBODIMENTS, Embodiment, base_mismatch
from hivla.sim.episode import EpisodeSpec, sample_episode
from hivla.sim.predicates import is_done
from hivla.sim.scene_xml import scene_xml
from hivla.sim.sensors import CONTACT_NAMES, ContactSensor, SensorError, parse_sensors
from hivla.sim.shifts import RenderShifter, parse_shifts, sampling_options
from hivla.sim.suites import SUITES, Suite
from hivla.sim.universal_actions import UniversalActions
from hivla.types import CAMERAS, Subtask

CONTROL_HZ = 10
PHYSICS_DT = 0.002
SUBSTEPS = int(round(1.0 / CONTROL_HZ / PHYSICS_DT))
STEPS_PER_SUBTASK = 90
SETTLE_STEPS = 100


class NeedsBaseError(HivlaError, ValueError):
    """A suite whose tasks need a wheeled base, given an embodiment without one."""


def check_base(suite: Suite, embodiment: Embodiment) -> None:
    """Raise :class:`NeedsBaseError` when ``suite`` needs a base that ``embodiment`` lacks."""
    if why := base_mismatch(suite.name, suite.needs_base, embodiment.name):
        raise NeedsBaseError(why)


def _size_fields_of(slot: cat.ObjectSlot) -> dict[str, np.ndarray]:
    """The model fields of a cube or cylinder slot at ``slot.size`` (a solid of ``slot.mass``)."""
    half = spatial.half_extents(slot)
    m = slot.mass
    if slot.shape == "cube":
        a, b, c = half**2
        inertia = m / 3 * np.array([b + c, a + c, a + b])
        geom_size = half
    else:
        r, h = slot.size
        inertia = m * np.array([(3 * r**2 + 4 * h**2) / 12, (3 * r**2 + 4 * h**2) / 12, r**2 / 2])
        geom_size = np.array([r, h, 0.0])
    aabb = np.r_[np.zeros(3), half]
    return {
        "geom_size": geom_size,
        "geom_rbound": np.array(np.linalg.norm(half if slot.shape == "cube" else half[1:])),
        "geom_aabb": aabb,
        "bvh_aabb": aabb,
        "body_mass": np.array(m),
        "body_subtreemass": np.array(m),
        "body_inertia": inertia,
    }


def _ancestor(model: mujoco.MjModel, body: int, ancestor: int) -> bool:
    """Whether ``ancestor`` is ``body`` or one of its parents."""
    while body != ancestor and body != 0:
        body = int(model.body_parentid[body])
    return body == ancestor


class TabletopEnv(UniversalActions, gym.Env):
    """Language-conditioned tabletop manipulation with task chains, shifts and several embodiments.

    Args:
        suite: a registered suite name (``hivla sim list``).
        embodiment: a registered embodiment name.
        image_size: square camera images, 64..224 px.
        shifts: ``{axis: level}`` or ``["axis=level", ...]``.
        render: False skips rendering (images are empty arrays): physics-only speed.
        depth: also return ``obs["depth"]`` per camera (metres); the same as adding "depth" to sensors.
        max_steps: step limit; default 90 per subtask.
        cameras: the cameras to render (of ``hivla.types.CAMERAS``).
        sensors: optional sensors beyond RGB, any of "depth", "points", "contact"
            (:mod:`hivla.sim.sensors` lists their keys, shapes and units); none by default.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}  # noqa: RUF012

    def __init__(
        self,
        suite: str = "tabletop-single",
        embodiment: str = "floating",
        image_size: int = 128,
        shifts: dict[str, int] | list[str] | None = None,
        render: bool = True,
        depth: bool = False,
        max_steps: int | None = None,
        cameras: tuple[str, ...] = CAMERAS,
        sensors: tuple[str, ...] | str | None = (),
    ) -> None:
        if not 64 <= image_size <= 224:
            raise ValueError(f"image_size must be within 64..224 px, got {image_size}")
        unknown = [c for c in cameras if c not in CAMERAS]
        if unknown:
            raise ValueError(f"unknown cameras {unknown}; available: {list(CAMERAS)}")
        self.suite: Suite = SUITES.get(suite)
        self.embodiment: Embodiment = EMBODIMENTS.get(embodiment)()
        check_base(self.suite, self.embodiment)
        self.shifts = parse_shifts(shifts)
        self.sensors = parse_sensors((*parse_sensors(sensors), *(("depth",) if depth else ())))
        if not render and set(self.sensors) & {"depth", "points"}:
            raise SensorError(
                f"sensors {list(self.sensors)} need rendering, but render=False; drop depth/points or render"
            )
        self.depth = "depth" in self.sensors
        self.image_size, self.render_images, self.cameras = image_size, render, tuple(cameras)
        self.max_steps_override = max_steps
        body, actuators = self.embodiment.robot_xml()
        xml = scene_xml(
            body, actuators, self.embodiment.name, self.embodiment.robot_sections(), self.suite.scene
        )
        self.model = mujoco.MjModel.from_xml_string(xml)
        self.data = mujoco.MjData(self.model)
        self.embodiment.DT = 1.0 / CONTROL_HZ
        self.embodiment.bind(self.model, self.data)
        self.fps = CONTROL_HZ
        self._index_model()
        self.shifter = RenderShifter(self.model)
        self._renderer: mujoco.Renderer | None = None
        self._depth_renderer: mujoco.Renderer | None = None
        emb = self.embodiment
        self.action_space = gym.spaces.Box(emb.action_low, emb.action_high, dtype=np.float32)
        img = gym.spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8)
        self.observation_space = gym.spaces.Dict(
            {
                "images": gym.spaces.Dict({c: img for c in self.cameras}),
                "state": gym.spaces.Box(-np.inf, np.inf, (emb.state_dim,), dtype=np.float32),
                "instruction": gym.spaces.Text(max_length=512),
                **self._sensor_spaces(),
            }
        )
        self.contact_sensor = ContactSensor(
            self.model, self.finger_geoms, self.hand_geoms, self.embodiment.ee_site
        )
        self.spec_: EpisodeSpec | None = None

    def _sensor_spaces(self) -> dict[str, gym.spaces.Space]:
        n, inf, out = self.image_size, np.inf, {}

        def per_cam(shape: tuple[int, ...]) -> gym.spaces.Dict:
            return gym.spaces.Dict(
                {c: gym.spaces.Box(-inf, inf, shape, dtype=np.float32) for c in self.cameras}
            )

        if self.depth:
            out["depth"] = per_cam((n, n))
        if "points" in self.sensors:
            out["points"] = per_cam((n, n, 3))
        if "contact" in self.sensors:
            out["contact"] = gym.spaces.Box(-inf, inf, (len(CONTACT_NAMES),), dtype=np.float32)
        return out

    # ---- model bookkeeping ---------------------------------------------------------------------
    def _index_model(self) -> None:
        m = self.model
        self.slot_body = {s.slot: m.body(s.slot).id for s in cat.SLOTS}
        self.slot_qpos = {s.slot: m.joint(s.slot).qposadr[0] for s in cat.SLOTS}
        self.slot_dof = {s.slot: m.joint(s.slot).dofadr[0] for s in cat.SLOTS}
        self.slot_geoms = {s.slot: np.flatnonzero(m.geom_bodyid == self.slot_body[s.slot]) for s in cat.SLOTS}
        self.geom_slot = {int(g): s for s, gs in self.slot_geoms.items() for g in gs}
        self.finger_geoms = (m.geom("finger_left").id, m.geom("finger_right").id)
        # The hand: every collidable geom in the subtree of the embodiment's hand body (the home-made
        # hand's palm and fingers; the Panda's flange, hand and fingers).
        hand = m.body(self.embodiment.hand_body).id
        in_hand = {b for b in range(m.nbody) if _ancestor(m, b, hand)}
        collidable = (m.geom_contype | m.geom_conaffinity) > 0
        self.hand_geoms = {g for g, b in enumerate(m.geom_bodyid) if int(b) in in_hand and collidable[g]}
        self.drawer_qadr = m.joint("drawer").qposadr[0]
        self.button_qadr = m.joint("button").qposadr[0]
        self.button_geom = m.geom("button").id
        self.zone_geom = m.geom("zone").id
        self.nominal_contype = {g: (m.geom_contype[g], m.geom_conaffinity[g]) for g in self.geom_slot}
        self._nominal_sizes = {s.slot: self._size_fields(s.slot) for s in cat.SLOTS if s.graspable}

    @property
    def spec(self) -> EpisodeSpec:
        if self.spec_ is None:
            raise RuntimeError("call reset(seed=...) before using the env")
        return self.spec_

    @property
    def max_steps(self) -> int:
        return self.max_steps_override or self.suite.steps_per_subtask * len(self.spec.subtasks)

    # ---- scene queries (used by predicates and the expert) -------------------------------------
    def slot_of(self, name: str) -> str:
        """The slot of object ``name``, or of the block a relation ("highest block") names now."""
        return self._name_to_slot[self.resolve(name)]

    def is_object(self, name: str) -> bool:
        """Whether ``name`` names an object of this episode (by colour, or a block by a relation)."""
        return name in self._name_to_slot or (spatial.is_relation(name) and bool(self._block_tops()))

    def resolve(self, name: str) -> str:
        """``name`` itself, or for a relation ("highest block") the name of the block it names in the
        current physics state (:mod:`hivla.sim.spatial`)."""
        if name in self._name_to_slot or not spatial.is_relation(name):
            return name
        return spatial.choose(name, self._block_tops())

    def _block_tops(self) -> dict[str, float]:
        return {o.name: self.object_top(o.name) for o in self.spec.objects if o.label == cat.BLOCK_NOUN}

    def object_slot(self, name: str) -> cat.ObjectSlot:
        """The catalogue slot of object ``name`` at its size in this episode (sizes vary by scene)."""
        return self._object_slots[self.resolve(name)]

    def object_top(self, name: str) -> float:
        """Height (m) of the highest point of object ``name``'s box, now."""
        body = self.slot_body[self.slot_of(name)]
        return spatial.top_of(self.data.xpos[body], self.data.xmat[body], self.object_slot(name))

    def object_pos(self, name: str) -> np.ndarray:
        return self.data.xpos[self.slot_body[self.slot_of(name)]].copy()

    def object_quat(self, name: str) -> np.ndarray:
        return self.data.xquat[self.slot_body[self.slot_of(name)]].copy()

    def object_yaw(self, name: str) -> float:
        mat = self.data.xmat[self.slot_body[self.slot_of(name)]].reshape(3, 3)
        return float(np.arctan2(mat[1, 0], mat[0, 0]))

    def project(self, point: np.ndarray) -> np.ndarray:
        """Where a world point appears in every camera of ``hivla.types.CAMERAS``, now.

        -> float32[len(CAMERAS), 3]: per camera (u, v, visible) with u rightwards and v downwards,
        -1..1 across the (square) image; visible is 1 when the point is in front of the camera and
        inside the image, else 0 (u, v are then clipped to the border). Render-side camera shifts
        are included, since they move the compiled camera.
        """
        point = np.asarray(point, np.float64)
        if point.shape != (3,) or not np.all(np.isfinite(point)):
            raise ValueError(f"project needs a finite world point float[3], got {point!r}")
        out = np.zeros((len(CAMERAS), 3), np.float32)
        for i, cam in enumerate(CAMERAS):
            cid = self.model.camera(cam).id
            rot = self.data.cam_xmat[cid].reshape(3, 3)
            local = rot.T @ (point - self.data.cam_xpos[cid])  # camera frame: x right, y up, looking along -z
            depth = -local[2]
            if depth <= 1e-6:
                continue
            half = np.tan(np.radians(self.model.cam_fovy[cid]) / 2.0) * depth  # half the view at that depth
            u, v = local[0] / half, -local[1] / half
            visible = abs(u) <= 1.0 and abs(v) <= 1.0
            out[i] = (np.clip(u, -1.0, 1.0), np.clip(v, -1.0, 1.0), float(visible))
        return out

    def drawer_q(self) -> float:
        return float(self.data.qpos[self.drawer_qadr])

    def _hand_contacts(self) -> dict[str, set[int]]:
        """slot -> which finger geoms touch it."""
        out: dict[str, set[int]] = {}
        for c in self.data.contact[: self.data.ncon]:
            for a, b in ((c.geom1, c.geom2), (c.geom2, c.geom1)):
                if a in self.finger_geoms and b in self.geom_slot:
                    out.setdefault(self.geom_slot[b], set()).add(int(a))
        return out

    def grasped(self) -> str | None:
        """The object both fingers touch, if any."""
        for slot, fingers in self._hand_contacts().items():
            if len(fingers) == 2:
                return self._slot_to_name.get(slot)
        return None

    def touching_hand(self, name: str) -> bool:
        slot = self.slot_of(name)
        for c in self.data.contact[: self.data.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            if pair & self.hand_geoms and pair & set(int(g) for g in self.slot_geoms[slot]):
                return True
        return False

    def contacts(self) -> list[tuple[str, str]]:
        """Pairs of touching bodies other than the table and floor."""
        m, out = self.model, set()
        ignore = {m.geom("table").id, m.geom("floor").id}
        for c in self.data.contact[: self.data.ncon]:
            if c.geom1 in ignore or c.geom2 in ignore:
                continue
            names = sorted(self.body_label(m.geom_bodyid[g]) for g in (c.geom1, c.geom2))
            out.add((names[0], names[1]))
        return sorted(out)

    def body_label(self, body: int) -> str:
        """The name of MuJoCo body ``body``: the object's name for an object slot, else the body's."""
        name = self.model.body(body).name
        return self._slot_to_name.get(name, name)

    # ---- episode -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        opts = sampling_options(self.suite.sampling_options(), self.shifts)
        self._load_spec(sample_episode(int(seed), opts, self.shifts))
        return self.observation(), self._info()

    def _load_spec(self, spec: EpisodeSpec) -> None:
        """Lay out the scene for ``spec`` and settle it."""
        m, d = self.model, self.data
        self.spec_ = spec
        self._name_to_slot = {o.name: o.slot for o in spec.objects}
        self._slot_to_name = {o.slot: o.name for o in spec.objects}
        self._object_slots = {o.name: o.slot_info for o in spec.objects}
        mujoco.mj_resetData(m, d)
        active = {o.slot: o for o in spec.objects}
        self.paint_objects()
        self._size_objects(active)
        for i, s in enumerate(cat.SLOTS):
            on = s.slot in active
            m.body_gravcomp[self.slot_body[s.slot]] = 0.0 if on else 1.0
            q = self.slot_qpos[s.slot]
            if on:
                o = active[s.slot]
                d.qpos[q : q + 3] = (o.xy[0], o.xy[1], o.slot_info.rest_height + 0.002)
                d.qpos[q + 3 : q + 7] = (np.cos(o.yaw / 2), 0.0, 0.0, np.sin(o.yaw / 2))
            else:
                d.qpos[q : q + 7] = (2.0 + 0.3 * i, 2.0, -1.0, 1.0, 0.0, 0.0, 0.0)
        d.qpos[self.drawer_qadr] = 0.1 if spec.drawer_open else 0.0
        m.geom_pos[self.zone_geom] = (spec.zone_xy[0], spec.zone_xy[1], 0.0006)
        self.button_pressed = False
        m.geom_rgba[self.button_geom] = (0.8, 0.1, 0.1, 1.0)
        self.shifter.apply(self.shifts)
        self._camera_base = (m.cam_pos[self.shifter.cam].copy(), m.cam_quat[self.shifter.cam].copy())
        self.steps = 0
        self._shake_camera()
        self.embodiment.reset()
        mujoco.mj_forward(m, d)
        for _ in range(SETTLE_STEPS):
            mujoco.mj_step(m, d)
        mujoco.mj_forward(m, d)
        self.steps, self.subtask_index, self.interventions = 0, 0, 0
        self._advance()

    def _size_fields(self, slot: str) -> dict[str, np.ndarray]:
        """The model fields that hold the size of a one-geom object slot (copies)."""
        m, g, b = self.model, int(self.slot_geoms[slot][0]), self.slot_body[slot]
        return {
            "geom_size": m.geom_size[g].copy(),
            "geom_rbound": m.geom_rbound[g].copy(),
            "geom_aabb": m.geom_aabb[g].copy(),
            "bvh_aabb": m.bvh_aabb[m.body_bvhadr[b]].copy(),
            "body_mass": m.body_mass[b].copy(),
            "body_subtreemass": m.body_subtreemass[b].copy(),
            "body_inertia": m.body_inertia[b].copy(),
        }

    def _size_objects(self, active: dict[str, Any]) -> None:
        """Give each cube and cylinder its episode size (collision, look, mass, inertia); the catalogue's
        compiled values, restored exactly, where the episode keeps the catalogue size. The solver's
        constants computed at compile time (``body_invweight0``, which scales contact softness) keep
        the catalogue size's: resized objects' contacts are a little softer or stiffer than compiled ones."""
        m = self.model
        for slot, nominal in self._nominal_sizes.items():
            o = active.get(slot)
            fields = nominal if o is None or o.size is None else _size_fields_of(o.slot_info)
            g, b = int(self.slot_geoms[slot][0]), self.slot_body[slot]
            m.geom_size[g], m.geom_rbound[g] = fields["geom_size"], fields["geom_rbound"]
            m.geom_aabb[g], m.bvh_aabb[m.body_bvhadr[b]] = fields["geom_aabb"], fields["bvh_aabb"]
            m.body_mass[b], m.body_subtreemass[b] = fields["body_mass"], fields["body_subtreemass"]
            m.body_inertia[b] = fields["body_inertia"]

    def paint_objects(self) -> None:
        """Show the episode's objects in their colours (collisions on); hide the unused slots."""
        m = self.model
        active = {o.slot: o for o in self.spec.objects}
        for s in cat.SLOTS:
            on = s.slot in active
            for g in self.slot_geoms[s.slot]:
                m.geom_contype[g], m.geom_conaffinity[g] = self.nominal_contype[g] if on else (0, 0)
                rgb = cat.ALL_COLOURS[active[s.slot].colour] if on else (0, 0, 0)
                m.geom_rgba[g] = (*rgb, 1.0 if on else 0.0)

    def _shake_camera(self) -> None:
        """Move the front camera off its pose for this step by the embodiment's ``camera_shake``: a
        smooth wander (a few sines of seeded phases, a function of the episode seed and the step, so
        a restored state films the same), up to ``camera_shake`` metres and about two degrees."""
        amp = self.embodiment.camera_shake
        if amp <= 0:
            return
        pos, quat = self._camera_base
        phase = np.random.default_rng([self.spec.seed, 7171]).uniform(0, 2 * np.pi, 6)
        t = self.steps * np.array([0.9, 0.7, 1.1, 0.8, 1.3, 0.6])
        wave = np.sin(t + phase)  # (6,)
        turn = np.zeros(4)
        norm = float(np.linalg.norm(wave[3:])) + 1e-9
        mujoco.mju_axisAngle2Quat(turn, wave[3:] / norm, 2.6 * amp * norm)
        shaken = np.zeros(4)
        mujoco.mju_mulQuat(shaken, quat, turn)
        cam = self.shifter.cam
        self.model.cam_pos[cam], self.model.cam_quat[cam] = pos + amp * wave[:3], shaken

    def step(self, action: np.ndarray):
        native = self._validate(action)
        self.embodiment.apply(native)
        for _ in range(SUBSTEPS):
            mujoco.mj_step(self.model, self.data)
        self.steps += 1
        self._shake_camera()
        mujoco.mj_forward(self.model, self.data)  # observations and predicates see the integrated state
        if self.data.qpos[self.button_qadr] < -0.6 * cat.BUTTON_TRAVEL and not self.button_pressed:
            self.button_pressed = True
            self.model.geom_rgba[self.button_geom] = (0.1, 0.9, 0.2, 1.0)
        before = self.subtask_index
        self._advance()
        reward = float(self.subtask_index - before)
        success = self.subtask_index >= len(self.spec.subtasks)
        truncated = self.steps >= self.max_steps and not success
        return self.observation(), reward, success, truncated, self._info()

    def subtask_done(self, sub: Subtask) -> bool:
        """Whether subtask ``sub`` holds in the current state (its success predicate)."""
        return is_done(self, sub)

    def _advance(self) -> None:
        while self.subtask_index < len(self.spec.subtasks) and is_done(
            self, self.spec.subtasks[self.subtask_index]
        ):
            self.subtask_index += 1

    def _validate(self, action: np.ndarray) -> np.ndarray:
        """Native action -> float64 clipped to the action space. Raises ValueError on bad input."""
        a = np.asarray(action, dtype=np.float64)
        dim = self.embodiment.action_dim
        if a.shape != (dim,):
            raise ValueError(
                f"{self.embodiment.name} expects a native action of shape ({dim},) "
                f"[{', '.join(self.embodiment.action_names)}], got shape {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action contains NaN or inf: {a.tolist()}; expected finite values")
        return np.clip(a, self.embodiment.action_low, self.embodiment.action_high)

    # ---- observations --------------------------------------------------------------------------
    def observation(self) -> dict[str, Any]:
        """The observation of the current state (what ``reset`` and ``step`` return), rendered anew."""
        obs: dict[str, Any] = {
            "images": self._render_rgb(),
            "state": self.embodiment.state(),
            "instruction": self.spec.instruction,
        }
        if self.depth or "points" in self.sensors:
            depth, params = self._render_depth(), self.camera_params()
            if self.depth:
                obs["depth"] = depth
            if "points" in self.sensors:
                obs["points"] = {
                    c: camgeo.depth_to_points(depth[c], params[c]["intrinsics"], params[c]["extrinsics"])
                    for c in self.cameras
                }
            obs["camera_params"] = params
        if "contact" in self.sensors:
            obs["contact"] = self.contact_sensor.read(self.data)
        return obs

    def camera_params(self) -> dict[str, dict[str, np.ndarray]]:
        """camera -> {"intrinsics": float32[3, 3], "extrinsics": float32[4, 4] camera-to-world}, now
        (OpenCV camera frame, :mod:`hivla.sim.camera_geometry`); the wrist camera moves with the hand."""
        out = {}
        for cam in self.cameras:
            cid = self.model.camera(cam).id
            out[cam] = {
                "intrinsics": camgeo.intrinsics(
                    float(self.model.cam_fovy[cid]), self.image_size, self.image_size
                ),
                "extrinsics": camgeo.extrinsics(self.data.cam_xpos[cid], self.data.cam_xmat[cid]),
            }
        return out

    def _renderer_rgb(self) -> mujoco.Renderer:
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, self.image_size, self.image_size)
        return self._renderer

    def camera_images(self) -> dict[str, np.ndarray]:
        """camera -> uint8[H, W, 3] of the current model and data (empty arrays with ``render=False``)."""
        return self._render_rgb()

    def _render_rgb(self) -> dict[str, np.ndarray]:
        if not self.render_images:
            return {c: np.zeros((0, 0, 3), np.uint8) for c in self.cameras}
        r = self._renderer_rgb()
        out = {}
        for cam in self.cameras:
            r.update_scene(self.data, cam)
            out[cam] = r.render().copy()
        return out

    def _render_depth(self) -> dict[str, np.ndarray]:
        if self._depth_renderer is None:
            self._depth_renderer = mujoco.Renderer(self.model, self.image_size, self.image_size)
            self._depth_renderer.enable_depth_rendering()
        out = {}
        for cam in self.cameras:
            self._depth_renderer.update_scene(self.data, cam)
            out[cam] = self._depth_renderer.render().astype(np.float32)
        return out

    def render(self) -> np.ndarray:
        return self._render_rgb()[self.cameras[0]]

    def _info(self) -> dict[str, Any]:
        spec = self.spec
        n = len(spec.subtasks)
        grasped = self.grasped()
        return {
            "instruction": spec.instruction,
            "subtasks": [s.text for s in spec.subtasks],
            "task_kinds": [s.kind for s in spec.subtasks],
            "subtask_index": min(self.subtask_index, n - 1),
            "completed": self.subtask_index,
            "chain_length": n,
            "success": self.subtask_index >= n,
            "progress": self.subtask_index / n,
            "shifts": dict(self.shifts),
            "seed": spec.seed,
            "step": self.steps,
            "privileged": {
                "object_poses": {
                    o.name: np.concatenate([self.object_pos(o.name), self.object_quat(o.name)])
                    for o in spec.objects
                },
                "grasped": grasped,
                "object_sizes": {o.name: self._object_slots[o.name].size for o in spec.objects},
                "contacts": self.contacts(),
                "drawer": self.drawer_q(),
                "button_pressed": self.button_pressed,
                "ee_pos": self.embodiment.ee_pos(),
            },
            "privileged_vector": self.privileged_vector(),
        }

    def privileged_vector(self) -> np.ndarray:
        """float32[8 * n_slots + 4]: per slot [active, xyz, quat], drawer, button, zone xy."""
        parts = []
        for s in cat.SLOTS:
            on = s.slot in self._slot_to_name
            body = self.slot_body[s.slot]
            parts.append([float(on), *self.data.xpos[body], *self.data.xquat[body]])
        tail = [self.drawer_q(), float(self.button_pressed), *self.spec.zone_xy]
        return np.concatenate([np.ravel(parts), tail]).astype(np.float32)

    # ---- state ---------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Everything needed to resume this episode exactly (physics, controller, bookkeeping)."""
        size = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_INTEGRATION)
        physics = np.zeros(size)
        mujoco.mj_getState(self.model, self.data, physics, mujoco.mjtState.mjSTATE_INTEGRATION)
        return {
            "spec": self.spec,
            "physics": physics,
            "controller": self.embodiment.controller_state(),
            "steps": self.steps,
            "subtask_index": self.subtask_index,
            "button_pressed": self.button_pressed,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if self.spec_ is not state["spec"]:
            self._load_spec(state["spec"])
        mujoco.mj_setState(self.model, self.data, state["physics"], mujoco.mjtState.mjSTATE_INTEGRATION)
        self.embodiment.set_controller_state(state["controller"])
        self.steps, self.subtask_index = state["steps"], state["subtask_index"]
        self._shake_camera()
        self.button_pressed = state["button_pressed"]
        self.model.geom_rgba[self.button_geom] = (
            (0.1, 0.9, 0.2, 1.0) if self.button_pressed else (0.8, 0.1, 0.1, 1.0)
        )
        mujoco.mj_forward(self.model, self.data)

    def close(self) -> None:
        for r in (self._renderer, self._depth_renderer):
            if r is not None:
                r.close()
        self._renderer = self._depth_renderer = None
