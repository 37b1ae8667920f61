"""Visual variations for re-rendering recorded episodes (``hivla data synthesize``): lighting, table
texture and tint, object colour jitter, front-camera jitter and look-only distractors.

Every variation is drawn from *training* pools and ranges that lie outside the evaluation levels of
the shift axes (:mod:`hivla.sim.shifts`), so that evaluating under shifts still measures
generalization:

- lighting: intensity x0.7..1.3 (the levels use x0.45, x1.6, x0.3), tint within 8% of white per
  channel (levels 2-3 tint by 15% or more), direction turned by at most 0.25 (levels 2-3: 0.71, 1.14);
- table: the nominal material or one of ``TRAIN_TABLE_MATERIALS`` (never a level's material);
- camera: the front camera orbits by at most 4 degrees and rises by at most 2 cm (levels: 8, 16,
  24 degrees);
- object colours: each object's colour moves by at most 0.08 per channel, which keeps it nearer its
  named training colour than any held-out colour of the object-colour axis;
- distractors: 0-2 unused objects in training colours, shown but not simulated, at least 10 cm
  from every object and from the hand over the whole episode. This is the one overlap in kind with
  the ``distractors`` axis, which adds physical objects within the placement range.

Paraphrases, placement and object combinations are not visual: re-rendering leaves them as recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import mujoco
import numpy as np

from hivla.sim import catalogue as cat

LIGHT_SCALE_RANGE = (0.7, 1.3)
LIGHT_TINT_MAX = 0.08
LIGHT_TURN_MAX = 0.25
TRAIN_TABLE_MATERIALS = (
    "table_plain", "train_table_wood", "train_table_slate", "train_table_light", "train_table_stripes",
    "train_table_speckle",
)  # fmt: skip
TABLE_TINT_RANGE = (0.8, 1.0)
CAMERA_ORBIT_MAX_DEG = 4.0
CAMERA_RAISE_MAX = 0.02
OBJECT_COLOUR_JITTER = 0.08
MAX_DISTRACTORS = 2
DISTRACTOR_CLEARANCE = 0.10  # metres from every object and the hand, at every frame
DISTRACTOR_AREA_X = (-0.3, 0.22)
DISTRACTOR_AREA_Y = (-0.34, 0.34)
_FIXED_ITEMS = (cat.DRAWER_POS, cat.BUTTON_POS)
_FIXED_CLEARANCE = 0.16  # the drawer and button bases are larger than an object


@dataclass(frozen=True)
class Distractor:
    slot: str
    colour: str
    xy: tuple[float, float]
    yaw: float


@dataclass(frozen=True)
class VisualVariation:
    """One sampled look of a scene; :meth:`apply` sets it on an env already reset to the episode."""

    light_scale: float = 1.0
    light_tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    light_turn: tuple[float, float, float] = (0.0, 0.0, 0.0)
    table: str = "table_plain"
    table_tint: float = 1.0
    camera_orbit_deg: float = 0.0
    camera_raise: float = 0.0
    colour_offsets: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # slot -> rgb
    distractors: tuple[Distractor, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def apply(self, env) -> None:
        """Change ``env``'s compiled model to this look (on top of its own render shifts)."""
        m, shifter = env.model, env.shifter
        m.light_diffuse[shifter.light] = np.clip(
            m.light_diffuse[shifter.light] * self.light_scale * np.array(self.light_tint), 0, 1
        )
        turned = m.light_dir[shifter.light] + np.array(self.light_turn)
        m.light_dir[shifter.light] = turned / np.linalg.norm(turned)
        m.vis.headlight.diffuse[:] = np.clip(
            m.vis.headlight.diffuse * self.light_scale * np.array(self.light_tint), 0, 1
        )
        m.vis.headlight.ambient[:] = np.clip(m.vis.headlight.ambient * self.light_scale, 0, 1)
        table = m.material(self.table).id
        m.geom_matid[shifter.table] = table
        m.mat_rgba[table, :3] *= self.table_tint  # the caller restores mat_rgba between looks
        base_orbit, base_raise = _camera_of(env)
        shifter.place_camera(base_orbit + self.camera_orbit_deg, base_raise + self.camera_raise)
        for slot, offset in self.colour_offsets.items():
            for g in env.slot_geoms[slot]:
                m.geom_rgba[g, :3] = np.clip(m.geom_rgba[g, :3] + np.array(offset), 0, 1)
        for d in self.distractors:
            for g in env.slot_geoms[d.slot]:
                m.geom_rgba[g] = (*cat.ALL_COLOURS[d.colour], 1.0)  # collisions stay off: look only

    def pose_distractors(self, env) -> None:
        """Put the distractors in ``env.data.qpos`` (call after loading a recorded qpos)."""
        for d in self.distractors:
            q = env.slot_qpos[d.slot]
            height = cat.SLOT_BY_NAME[d.slot].rest_height
            env.data.qpos[q : q + 7] = (
                d.xy[0],
                d.xy[1],
                height,
                np.cos(d.yaw / 2),
                0.0,
                0.0,
                np.sin(d.yaw / 2),
            )


def _camera_of(env) -> tuple[float, float]:
    """The orbit and rise the env's own camera shift uses (0, 0 without one)."""
    from hivla.sim.shifts import CAMERA_ORBIT_DEG_PER_LEVEL, CAMERA_RAISE_PER_LEVEL

    level = env.shifts.get("camera", 0)
    return CAMERA_ORBIT_DEG_PER_LEVEL * level, CAMERA_RAISE_PER_LEVEL * level


def sample_variation(
    rng: np.random.Generator, active: dict[str, str], busy_xy: np.ndarray, distractors: bool = True
) -> VisualVariation:
    """Draw a look from the training pools.

    active: slot -> colour name of the objects on the table (their colours are jittered).
    busy_xy: float[N, 2] table points every distractor keeps clear of (objects and hand over the
        episode).
    """
    u = rng.uniform
    tint = tuple(float(1.0 + u(-LIGHT_TINT_MAX, LIGHT_TINT_MAX)) for _ in range(3))
    turn = rng.normal(size=3)
    turn = turn / np.linalg.norm(turn) * u(0.0, LIGHT_TURN_MAX)
    offsets = {
        slot: tuple(float(v) for v in u(-OBJECT_COLOUR_JITTER, OBJECT_COLOUR_JITTER, 3))
        for slot in sorted(active)
    }
    chosen: list[Distractor] = []
    if distractors:
        chosen = _distractors(rng, active, busy_xy, int(rng.integers(0, MAX_DISTRACTORS + 1)))
    return VisualVariation(
        light_scale=float(u(*LIGHT_SCALE_RANGE)),
        light_tint=tint,  # type: ignore[arg-type]
        light_turn=tuple(float(v) for v in turn),  # type: ignore[arg-type]
        table=str(rng.choice(TRAIN_TABLE_MATERIALS)),
        table_tint=float(u(*TABLE_TINT_RANGE)),
        camera_orbit_deg=float(u(-CAMERA_ORBIT_MAX_DEG, CAMERA_ORBIT_MAX_DEG)),
        camera_raise=float(u(-CAMERA_RAISE_MAX, CAMERA_RAISE_MAX)),
        colour_offsets=offsets,
        distractors=tuple(chosen),
    )


def _distractors(
    rng: np.random.Generator, active: dict[str, str], busy_xy: np.ndarray, count: int
) -> list[Distractor]:
    free = [s.slot for s in cat.SLOTS if s.slot not in active]
    busy = np.concatenate([np.asarray(busy_xy, float).reshape(-1, 2), np.array(_FIXED_ITEMS)])
    limits = np.concatenate(
        [
            np.full(len(busy) - len(_FIXED_ITEMS), DISTRACTOR_CLEARANCE),
            np.full(len(_FIXED_ITEMS), _FIXED_CLEARANCE),
        ]
    )
    out: list[Distractor] = []
    for slot in rng.permutation(free)[:count]:
        for _ in range(50):
            xy = np.array([rng.uniform(*DISTRACTOR_AREA_X), rng.uniform(*DISTRACTOR_AREA_Y)])
            if np.all(np.linalg.norm(busy - xy, axis=1) >= limits):
                break
        else:
            continue  # no clear spot on this table: fewer distractors
        shape = cat.SLOT_BY_NAME[str(slot)].shape
        taken = {c for s, c in active.items() if cat.SLOT_BY_NAME[s].shape == shape}  # no second "red cube"
        colour = str(rng.choice([c for c in cat.TRAIN_COLOURS if c not in taken]))
        out.append(
            Distractor(str(slot), colour, (float(xy[0]), float(xy[1])), float(rng.uniform(-np.pi, np.pi)))
        )
        busy = np.concatenate([busy, xy[None]])
        limits = np.append(limits, DISTRACTOR_CLEARANCE)
    return out


class EpisodeRenderer:
    """Renders the recorded frames of one episode again, under a :class:`VisualVariation`.

    ``env`` is a :class:`~hivla.sim.env.TabletopEnv` of the episode's suite, embodiment, shifts and
    image size; :meth:`load` lays out the episode from its seed (objects, colours, zone) and checks
    that it is the recorded one.
    """

    def __init__(self, env) -> None:
        self.env = env
        self.ee_site = env.model.site("ee").id
        self.nominal_mat_rgba = env.model.mat_rgba.copy()

    def load(self, seed: int, instruction: str) -> None:
        env = self.env
        env.reset(seed=seed)
        if env.spec.instruction != instruction:
            raise ValueError(
                f"seed {seed} of suite {env.suite.name} now gives the instruction {env.spec.instruction!r}, "
                f"but the episode was recorded with {instruction!r}: the suite changed since it was recorded"
            )

    @property
    def active(self) -> dict[str, str]:
        return {o.slot: o.colour for o in self.env.spec.objects}

    def busy_xy(self, qpos: np.ndarray) -> np.ndarray:
        """float[T * (objects + 1), 2]: where the objects and the hand are over the recorded frames."""
        env, points = self.env, []
        for q in qpos:
            env.data.qpos[:] = q
            mujoco.mj_kinematics(env.model, env.data)
            points.append(env.data.site_xpos[self.ee_site][:2].copy())
            points += [env.data.xpos[env.slot_body[s]][:2].copy() for s in self.active]
        return np.array(points)

    def render(
        self, variation: VisualVariation, qpos: np.ndarray, button_pressed: np.ndarray, target_xyz: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Frames under ``variation``: (camera -> uint8[T, H, W, 3], target_uv float32[T, 3 * cameras]).

        qpos: float[T, nq] recorded positions; button_pressed: bool[T]; target_xyz: float[T, 3].
        """
        env = self.env
        model, data = env.model, env.data
        env.shifter.apply(env.shifts)  # undo an earlier variation's lights, table and camera
        env.paint_objects()
        model.mat_rgba[:] = self.nominal_mat_rgba
        variation.apply(env)
        images: dict[str, list[np.ndarray]] = {c: [] for c in env.cameras}
        uv = []
        for q, pressed, target in zip(qpos, button_pressed, target_xyz, strict=True):
            data.qpos[:] = q
            variation.pose_distractors(env)
            model.geom_rgba[env.button_geom] = (0.1, 0.9, 0.2, 1.0) if pressed else (0.8, 0.1, 0.1, 1.0)
            mujoco.mj_kinematics(model, data)
            mujoco.mj_camlight(model, data)
            for cam, img in env.camera_images().items():
                images[cam].append(img)
            uv.append(env.project(np.asarray(target, np.float64)).ravel())
        return {c: np.stack(v) for c, v in images.items()}, np.asarray(uv, np.float32)
