"""What the world-model validation runs: the policy whose rollouts are probed, held-out probe
conditions, the veto evaluation, the world-model-triggered replanning, sizes; named presets
debug / quick / default."""

from __future__ import annotations

from dataclasses import dataclass, field

from hivla.experiments.world_model_validation.replan import ReplanEvalConfig
from hivla.experiments.world_model_validation.veto import VetoEvalConfig
from hivla.registry import Registry
from hivla.world_model.config import FAULTY_EXPERT

# the render shifts and the placement shift (``hivla sim list``); task shifts (combination,
# paraphrase) change the instruction, not what the world model sees, and can be added with --axes
PROBE_AXES = ("lighting", "table", "camera", "object_colour", "distractors", "placement")


@dataclass(frozen=True)
class ProbeConfig:
    """Held-out episodes of ``policy`` per (axis, level) plus the unshifted baseline.

    ``policy``: any policy spec ``hivla eval --policy`` takes (a trained VLA run directory,
    ``expert``, ``hierarchical:...``) or ``faulty-expert``, the scripted expert with injected faults
    at ``fault_rate`` (a stand-in that acts on privileged state, so render shifts cannot cause its
    failures).
    """

    policy: str = FAULTY_EXPERT
    suite: str = "tabletop-chain-2"
    embodiment: str = "floating"
    axes: tuple[str, ...] = PROBE_AXES
    levels: tuple[int, ...] = (1, 2, 3)
    episodes: int = 6
    fault_rate: float = 0.3
    image_size: int = 64
    workers: int = 1
    bootstrap: int = 2000
    backend: str = "local"  # where the rollouts run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.sim import SHIFT_AXES, SUITES
        from hivla.utils.pool import check_backend

        if not self.policy:
            raise ValueError(f"policy must name a policy spec or {FAULTY_EXPERT!r}")
        check_backend(self.backend, self.address)
        SUITES.get(self.suite)
        for axis in self.axes:
            SHIFT_AXES.get(axis)
        if not self.levels or any(not 1 <= lv <= 3 for lv in self.levels):
            raise ValueError(f"levels must be within 1..3, got {self.levels}")
        if self.episodes < 2 or self.workers < 1:
            raise ValueError(f"need episodes >= 2 and workers >= 1, got {self.episodes}, {self.workers}")

    def conditions(self) -> list[str]:
        return ["none", *(f"{a}={lv}" for a in self.axes for lv in self.levels)]


@dataclass(frozen=True)
class ExperimentSpec:
    """What ``hivla experiment world-model`` runs (a named preset, see ``EXPERIMENT_PRESETS``)."""

    name: str = "custom"
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    veto: VetoEvalConfig = field(default_factory=VetoEvalConfig)
    replan: ReplanEvalConfig = field(default_factory=ReplanEvalConfig)
    frame_steps: int = 8
    cem_episodes: int = 10
    run_veto: bool = True


EXPERIMENT_PRESETS: Registry[ExperimentSpec] = Registry("world-model experiment preset")
EXPERIMENT_PRESETS.add(
    "debug",
    ExperimentSpec(
        name="debug",
        probe=ProbeConfig(suite="tabletop-single", axes=("lighting", "camera"), levels=(2,), episodes=2, bootstrap=200),
        veto=VetoEvalConfig(suite="tabletop-single", episodes=2, conditions=("none", "lighting=2")),
        replan=ReplanEvalConfig(suite="tabletop-single", episodes=2, conditions=("none", "lighting=2")),
        frame_steps=3,
        cem_episodes=1,
    ),
)  # fmt: skip
EXPERIMENT_PRESETS.add(
    "quick",
    ExperimentSpec(name="quick", veto=VetoEvalConfig(episodes=30), replan=ReplanEvalConfig(episodes=30)),
)
EXPERIMENT_PRESETS.add(
    "default",
    ExperimentSpec(
        name="default",
        probe=ProbeConfig(suite="tabletop-mixed", episodes=30, workers=4),
        veto=VetoEvalConfig(suite="tabletop-mixed", episodes=100, workers=4),
        replan=ReplanEvalConfig(suite="tabletop-mixed", episodes=100, workers=4),
    ),
)
