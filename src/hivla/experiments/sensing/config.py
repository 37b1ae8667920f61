"""What the sensing experiment records, trains and evaluates: the sensor arms, the shifts, the sizes."""

from __future__ import annotations

from dataclasses import dataclass

from hivla.experiments.steps import RunOptions
from hivla.registry import Registry


@dataclass(frozen=True)
class SensorArm:
    """One policy of the comparison: the sensors it reads (``hivla train --sensors``) and how it reads
    depth (``--depth-encoder``: ``channel``, an RGB-D CNN, or ``points``, a point-cloud encoder)."""

    label: str
    sensors: tuple[str, ...] = ()
    depth_encoder: str = "channel"


ARMS: Registry[SensorArm] = Registry("sensing arm")
ARMS.add("rgb", SensorArm("RGB"))
ARMS.add("rgbd", SensorArm("RGB-D (depth as a 4th CNN channel)", ("depth",)))
ARMS.add("rgbd-contact", SensorArm("RGB-D + contact (touch in the state token)", ("depth", "contact")))
ARMS.add("points-contact", SensorArm("RGB + point cloud + contact", ("depth", "contact"), "points"))
DEFAULT_ARMS = ("rgb", "rgbd", "rgbd-contact")
# The three render-side axes (lighting, table texture, camera pose) and the size axis, where
# depth has something to decide; level 2 is where RGB-only policies lose most of their successes
# (BENCHMARKS, shift probe) without every arm failing.
DEFAULT_SHIFTS = ("lighting=2", "table=2", "camera=2", "size=2")
RESULTS_FORMAT, RESULTS_VERSION = "hivla.sensing", 1
DONE_FILE = "sensing_done.json"


@dataclass(frozen=True)
class SensingSizes:
    """The sizes of one experiment preset: ``episodes`` expert episodes recorded (with every arm's
    sensors) and trained on; ``vla_preset`` the policies' training preset, ``steps`` its steps (0: the
    preset's); ``eval_episodes`` held-out episodes per arm and condition (the same seeds for every arm);
    ``max_steps``/``collect_max_steps`` episode limits (None: the env's)."""

    episodes: int
    vla_preset: str
    eval_episodes: int
    steps: int = 0
    image_size: int = 64
    max_steps: int | None = None
    collect_max_steps: int | None = None

    def __post_init__(self) -> None:
        if min(self.episodes, self.eval_episodes) < 1 or self.steps < 0:
            raise ValueError(
                f"episodes and eval_episodes must be >= 1 and steps >= 0; got {self.episodes}, "
                f"{self.eval_episodes}, {self.steps}"
            )


EXPERIMENT_PRESETS: Registry[SensingSizes] = Registry("sensing preset")
EXPERIMENT_PRESETS.add(  # the whole pipeline in about a minute (tests)
    "debug",
    SensingSizes(
        episodes=3, vla_preset="debug", eval_episodes=1, steps=6, max_steps=10, collect_max_steps=30
    ),
)
EXPERIMENT_PRESETS.add(  # about an hour on 2 CPU cores: 3 quick trainings, 5 conditions x 100 episodes each
    "quick",
    SensingSizes(episodes=400, vla_preset="quick", eval_episodes=100),
)
EXPERIMENT_PRESETS.add(  # hours on 2 CPU cores, minutes on a GPU
    "standard",
    SensingSizes(episodes=600, vla_preset="standard", eval_episodes=200, steps=6000),
)


@dataclass(frozen=True)
class SensingConfig(RunOptions):
    """One run of ``hivla experiment sensing``; see its ``--help``."""

    out: str
    preset: str = "quick"
    suite: str = "tabletop-single"
    embodiment: str = "floating"
    arms: tuple[str, ...] = DEFAULT_ARMS
    shifts: tuple[str, ...] = DEFAULT_SHIFTS
    sizes: SensingSizes | None = None  # None: the preset's

    def __post_init__(self) -> None:
        from hivla.sim import check_embodiment, is_external, parse_shifts

        self.check_run_options()
        self.resolved  # noqa: B018 (raises for an unknown preset)
        if is_external(self.suite):
            raise ValueError(f"suite {self.suite} is an external benchmark and has no hivla sensors")
        check_embodiment(self.suite, self.embodiment)
        for arm in self.arms:
            ARMS.get(arm)
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(
                f"arms must be distinct names among {', '.join(ARMS.names())}; got {list(self.arms)}"
            )
        if len(parse_shifts(list(self.shifts))) != len(self.shifts):  # unknown axes and bad levels raise
            raise ValueError(
                f"give each shift axis once, at a level >= 1 (e.g. lighting=2); got {list(self.shifts)}"
            )

    @property
    def resolved(self) -> SensingSizes:
        return self.sizes or EXPERIMENT_PRESETS.get(self.preset)

    @property
    def recorded_sensors(self) -> tuple[str, ...]:
        """The sensors the one dataset records: every arm's, in a fixed order."""
        wanted = {s for arm in self.arms for s in ARMS.get(arm).sensors}
        return tuple(s for s in ("depth", "contact") if s in wanted)
