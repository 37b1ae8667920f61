"""What the cross-embodiment experiment records, trains and evaluates: bodies, arms, sizes."""

from __future__ import annotations

from dataclasses import dataclass

from hivla.errors import HivlaError
from hivla.experiments.steps import RunOptions
from hivla.registry import Registry

ARMS = ("per-body", "joint", "held-out")
ARM_LABELS = {
    "per-body": "one policy per body (its own data)",
    "joint": "one policy, every body's data",
    "held-out": "zero-shot (trained on the other bodies)",
}
# the paired comparisons reported (arm minus arm, on the seeds both ran): does training with the other
# bodies help a body, and how much of its own data's worth does a body get zero-shot?
COMPARISONS = (("joint", "per-body"), ("held-out", "per-body"), ("held-out", "joint"))
RESULTS_FORMAT, RESULTS_VERSION = "hivla.cross_embodiment", 1
DONE_FILE = "cross_embodiment_done.json"


class CrossEmbodimentError(HivlaError, ValueError):
    """An option of ``hivla experiment cross-embodiment`` that cannot run."""


@dataclass(frozen=True)
class CrossSizes:
    """The sizes of one experiment preset.

    ``episodes``: expert episodes recorded per body (the training data). ``vla_preset``: the VLA's
    preset (every arm trains it alike: universal actions, the shared proprioception); ``steps`` 0
    keeps the preset's. ``eval_episodes``: held-out episodes per body and arm (the same seeds for
    every arm). ``max_steps``/``collect_max_steps``: episode caps of the evaluations and recordings
    (None: the suite's).
    """

    episodes: int
    vla_preset: str
    eval_episodes: int
    steps: int = 0
    max_steps: int | None = None
    collect_max_steps: int | None = None
    image_size: int = 64

    def __post_init__(self) -> None:
        if min(self.episodes, self.eval_episodes) < 1 or self.steps < 0:
            raise ValueError(
                f"episodes and eval_episodes must be >= 1 and steps >= 0 (0: the preset's), got "
                f"{self.episodes}, {self.eval_episodes}, {self.steps}"
            )


EXPERIMENT_PRESETS: Registry[CrossSizes] = Registry("cross-embodiment preset")
EXPERIMENT_PRESETS.add(  # the whole pipeline in well under a minute (tests)
    "debug",
    CrossSizes(episodes=2, vla_preset="debug", eval_episodes=1, steps=3, max_steps=8, collect_max_steps=30),
)  # fmt: skip
EXPERIMENT_PRESETS.add(  # ~1.5 h on 2 CPU cores: 4 bodies x 40 episodes, 6 trainings of 3000 quick steps, 900 evals
    "quick",
    CrossSizes(episodes=40, vla_preset="quick", eval_episodes=100, steps=3000),
)  # fmt: skip
EXPERIMENT_PRESETS.add(  # the mobile body joins the fixed ones (mixed universal widths)
    "standard",
    CrossSizes(episodes=150, vla_preset="quick", eval_episodes=200),
)  # fmt: skip
DEFAULT_EMBODIMENTS = ("floating", "arm6", "arm5", "panda")
STANDARD_EMBODIMENTS = (*DEFAULT_EMBODIMENTS, "mobile")


@dataclass(frozen=True)
class CrossConfig(RunOptions):
    """One run of ``hivla experiment cross-embodiment``; see its ``--help``.

    ``embodiments`` empty: the preset's bodies (the standard preset adds the mobile body)."""

    out: str
    preset: str = "quick"
    suite: str = "tabletop-single"
    embodiments: tuple[str, ...] = ()
    held_out: tuple[str, ...] = ("arm5",)
    arms: tuple[str, ...] = ARMS
    sizes: CrossSizes | None = None  # None: the preset's

    def __post_init__(self) -> None:
        from hivla.sim import EMBODIMENTS, SUITES, embodiments_of

        self.check_run_options()
        if self.sizes is None:
            EXPERIMENT_PRESETS.get(self.preset)
        SUITES.get(self.suite)
        bodies = self.bodies
        for e in bodies:
            EMBODIMENTS.get(e)
        if len(set(bodies)) != len(bodies) or len(bodies) < 2:
            raise CrossEmbodimentError(
                f"embodiments must be at least two distinct bodies, got {list(bodies)}: give e.g. "
                f"--embodiments {' '.join(DEFAULT_EMBODIMENTS)}"
            )
        runs_on = set(embodiments_of(self.suite))
        cannot = [e for e in bodies if e not in runs_on]
        if cannot:
            raise CrossEmbodimentError(
                f"suite {self.suite!r} does not run on {cannot} (it runs on {sorted(runs_on)}): choose other "
                "--embodiments or another --suite"
            )
        stand_ins = [e for e in bodies if EMBODIMENTS.get(e).human_stand_in]
        if stand_ins:
            raise CrossEmbodimentError(
                f"{stand_ins} stand in for a human hand, whose actions no policy trains on: leave them out of "
                "--embodiments"
            )
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms or len(set(self.arms)) != len(self.arms):
            raise CrossEmbodimentError(
                f"arms must be distinct names among {', '.join(ARMS)}; got {list(self.arms)}"
            )
        if "held-out" in self.arms:
            outside = [e for e in self.held_out if e not in bodies]
            if outside or not self.held_out or len(set(self.held_out)) != len(self.held_out):
                raise CrossEmbodimentError(
                    f"--held-out must name distinct bodies among the embodiments {list(bodies)}, got "
                    f"{list(self.held_out)}: a held-out body is trained without and evaluated zero-shot"
                )

    @property
    def resolved(self) -> CrossSizes:
        return self.sizes or EXPERIMENT_PRESETS.get(self.preset)

    @property
    def bodies(self) -> tuple[str, ...]:
        """The bodies recorded, trained on and evaluated (the preset's when ``embodiments`` is empty)."""
        if self.embodiments:
            return tuple(self.embodiments)
        return STANDARD_EMBODIMENTS if self.preset == "standard" else DEFAULT_EMBODIMENTS

    @property
    def held_out_bodies(self) -> tuple[str, ...]:
        return tuple(self.held_out) if "held-out" in self.arms else ()
