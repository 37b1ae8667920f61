"""What the latent-transfer experiment records, trains and evaluates: embodiments, arms, sizes."""

from __future__ import annotations

from dataclasses import dataclass, field

from hivla.experiments.steps import RunOptions
from hivla.latent_actions.probe import ProbeConfig
from hivla.registry import Registry

ARMS = ("scratch", "latent-all", "latent-others")
ARM_LABELS = {
    "scratch": "no pretraining",
    "latent-all": "latent pretraining, videos of every embodiment",
    "latent-others": "latent pretraining, videos of the other embodiments only",
}
VIDEO_SOURCES = {"latent-all": "all", "latent-others": "others"}  # arm -> the videos it pretrains on
VIDEO_SEED_OFFSET = 5000  # video-only episodes come from other training seeds than the labelled ones
RESULTS_FORMAT, RESULTS_VERSION = "hivla.latent_transfer", 1
DONE_FILE = "latent_transfer_done.json"


@dataclass(frozen=True)
class TransferSizes:
    """The sizes of one experiment preset.

    ``labelled_episodes``: expert episodes with actions per embodiment (the probes' data; the target's
    are also the fine-tuning pool the fractions take from). ``video_episodes``: video-only episodes
    per embodiment (latent training and pretraining). ``lam_preset``/``vla_preset``: the latent action
    model's and the VLA's presets; ``*_steps`` 0 keep the preset's. ``fractions``: shares of the
    target's labelled episodes fine-tuned on. ``eval_episodes``: held-out episodes per arm and
    fraction. ``probe_val_fraction``: share of each embodiment's episodes the probes are scored on.
    """

    labelled_episodes: int
    video_episodes: int
    lam_preset: str
    vla_preset: str
    fractions: tuple[float, ...]
    eval_episodes: int
    lam_steps: int = 0
    pretrain_steps: int = 0
    finetune_steps: int = 0
    max_steps: int | None = None
    collect_max_steps: int | None = None
    image_size: int = 64
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    probe_val_fraction: float = 0.3
    examples: int = 4  # decoded latent examples per embodiment in the report

    def __post_init__(self) -> None:
        if min(self.labelled_episodes, self.video_episodes, self.eval_episodes) < 1:
            raise ValueError("labelled_episodes, video_episodes and eval_episodes must be >= 1")
        if not self.fractions or any(not 0.0 < f <= 1.0 for f in self.fractions):
            raise ValueError(f"fractions must be within (0, 1], got {self.fractions}")
        if min(self.lam_steps, self.pretrain_steps, self.finetune_steps) < 0:
            raise ValueError("lam_steps, pretrain_steps and finetune_steps must be >= 0 (0: the preset's)")
        if not 0.0 < self.probe_val_fraction < 1.0:
            raise ValueError(f"probe_val_fraction must be within (0, 1), got {self.probe_val_fraction}")


EXPERIMENT_PRESETS: Registry[TransferSizes] = Registry("latent-transfer preset")
EXPERIMENT_PRESETS.add(  # the whole pipeline in about a minute (tests)
    "debug",
    TransferSizes(labelled_episodes=3, video_episodes=3, lam_preset="debug", vla_preset="debug", fractions=(0.5, 1.0),
                  eval_episodes=1, pretrain_steps=6, max_steps=10, collect_max_steps=30,
                  probe=ProbeConfig(steps=50), examples=2),
)  # fmt: skip
EXPERIMENT_PRESETS.add(  # hours on 2 CPU cores: 4 embodiments x 150 videos, 12 fine-tunings of the quick preset
    "quick",
    TransferSizes(labelled_episodes=40, video_episodes=150, lam_preset="quick", vla_preset="quick",
                  fractions=(0.1, 0.25, 0.5, 1.0), eval_episodes=20, pretrain_steps=2000),
)  # fmt: skip
EXPERIMENT_PRESETS.add(
    "standard",
    TransferSizes(labelled_episodes=100, video_episodes=400, lam_preset="standard", vla_preset="quick",
                  fractions=(0.05, 0.1, 0.25, 0.5, 1.0), eval_episodes=50, pretrain_steps=6000),
)  # fmt: skip


@dataclass(frozen=True)
class TransferConfig(RunOptions):
    """One run of ``hivla experiment latent-transfer``; see its ``--help``."""

    out: str
    preset: str = "quick"
    target: str = "floating"
    embodiments: tuple[str, ...] = ("floating", "arm6", "arm5", "hand")
    suite: str = "tabletop-single"
    align_weight: float = 0.5
    arms: tuple[str, ...] = ARMS
    sizes: TransferSizes | None = None  # None: the preset's

    def __post_init__(self) -> None:
        from hivla.sim import EMBODIMENTS, SUITES

        self.check_run_options()
        sizes = self.sizes or EXPERIMENT_PRESETS.get(self.preset)
        SUITES.get(self.suite)
        for e in self.embodiments:
            EMBODIMENTS.get(e)
        if self.target not in self.embodiments or len(set(self.embodiments)) != len(self.embodiments):
            raise ValueError(
                f"embodiments must be distinct and include the target {self.target!r}; got {list(self.embodiments)}"
            )
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"arms must be distinct names among {', '.join(ARMS)}; got {list(self.arms)}")
        if "latent-others" in self.arms and len(self.embodiments) < 2:
            raise ValueError("the latent-others arm pretrains on the other embodiments: give at least two")
        if self.align_weight < 0:
            raise ValueError(f"align_weight must be >= 0 (0: pure video), got {self.align_weight}")
        if sizes.labelled_episodes * min(sizes.fractions) < 1:
            raise ValueError(
                f"the smallest fraction {min(sizes.fractions)} of {sizes.labelled_episodes} labelled episodes "
                "is no episode: raise labelled_episodes or the fractions"
            )

    @property
    def resolved(self) -> TransferSizes:
        return self.sizes or EXPERIMENT_PRESETS.get(self.preset)

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(e for e in self.embodiments if e != self.target)
