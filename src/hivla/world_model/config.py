"""World-model configs and the named presets (debug | quick | default), in one list.

| preset  | for | sizes |
|---------|-----|-------|
| debug   | tests: train + evaluate in seconds | 32 px front camera, CNN (8, 16, 32), latent 32, rollout 3, 30 steps |
| quick   | 2 CPU cores in minutes | 32 px front + wrist, CNN (16, 32, 64), latent 128, rollout 6, 1500 steps |
| default | one GPU | 64 px front + wrist, CNN (32, 64, 128), latent 256, rollout 8, 30k steps |

Training reuses :class:`hivla.configs.presets.TrainConfig` (steps, batch, AdamW, warmup + cosine,
checkpoint cadence) so that world models and policies are trained with the same knobs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hivla.configs.presets import TrainConfig
from hivla.registry import Registry
from hivla.types import CAMERAS
from hivla.world_model.events import EVENT_NAMES

MODEL_KINDS = ("latent", "jepa")


FAULTY_EXPERT = "faulty-expert"  # the scripted expert with injected faults (hivla.world_model.faults)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms. ``teacher``/``rollout``: latent prediction with true / imagined
    inputs (V-JEPA 2-AC); ``recon``: pixels (latent model only); ``events``, ``outcome``,
    ``progress``: the heads."""

    teacher: float = 1.0
    rollout: float = 1.0
    recon: float = 1.0
    events: float = 0.5
    outcome: float = 0.2
    progress: float = 0.2

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"loss weight {f.name} must be >= 0, got {getattr(self, f.name)}")


@dataclass(frozen=True)
class WorldModelConfig:
    """An action-conditioned predictor over an image + state encoder.

    kind: ``latent`` (predicts the next latent and decodes pixels; DreamerV3/PlaNet-style
        deterministic latent dynamics) or ``jepa`` (EMA target encoder, no pixel loss; V-JEPA 2-AC).
    image_size: frames are area-resized to this square size before the encoder.
    widths: channels of the ``hivla.models`` CNN stages (the stem and each stage halve the size).
    horizon: K, the number of steps of the training rollout (and of the teacher-forced loss).
    ema_momentum: target-encoder EMA momentum (``jepa`` only).
    outcome_horizon: the outcome head predicts "the current subtask completes within this many steps".
    state_dim, action_dim: filled from the data by the trainer (0 = not yet known).
    action_key: dataset column of the actions: ``action.universal`` (any embodiment) or ``action``.
    """

    kind: str = "jepa"
    cameras: tuple[str, ...] = ("front", "wrist")
    image_size: int = 32
    widths: tuple[int, ...] = (16, 32, 64)
    latent_dim: int = 128
    hidden_dim: int = 256
    predictor_depth: int = 2
    horizon: int = 6
    ema_momentum: float = 0.99
    outcome_horizon: int = 30
    action_key: str = "action.universal"
    state_dim: int = 0
    action_dim: int = 0
    events: tuple[str, ...] = EVENT_NAMES
    loss: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"world model kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        unknown = [c for c in self.cameras if c not in CAMERAS]
        if unknown or not self.cameras:
            raise ValueError(f"cameras must be a non-empty subset of {CAMERAS}, got {self.cameras}")
        stride = 2 ** (len(self.widths) + 1)
        if self.image_size < stride or self.image_size % stride:
            raise ValueError(
                f"image_size {self.image_size} must be a positive multiple of {stride} "
                f"(the CNN halves the size {len(self.widths) + 1} times); e.g. {max(stride, 32)}"
            )
        if not self.widths or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive ints, got {self.widths}")
        for name in ("latent_dim", "hidden_dim", "predictor_depth", "horizon", "outcome_horizon"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 < self.ema_momentum < 1.0:
            raise ValueError(f"ema_momentum must be in (0, 1), got {self.ema_momentum}")
        if self.action_key not in ("action", "action.universal"):
            raise ValueError(f"action_key must be 'action' or 'action.universal', got {self.action_key!r}")
        if self.state_dim < 0 or self.action_dim < 0:
            raise ValueError("state_dim and action_dim must be >= 0 (0: filled from the data)")
        bad = [e for e in self.events if e not in EVENT_NAMES]
        if bad:
            raise ValueError(f"unknown events {bad}; available: {', '.join(EVENT_NAMES)}")

    @property
    def grid(self) -> int:
        """Side of the CNN's output feature map."""
        return self.image_size // 2 ** (len(self.widths) + 1)


@dataclass(frozen=True)
class WMDataConfig:
    """Where transitions come from.

    path: a dataset directory (LeRobot v3 layout, ``hivla collect`` or ``hivla train-world-model
        --collect``). val_fraction: share of episodes held out (whole episodes).
    max_episodes: use at most this many episodes (0: all).
    """

    path: str = ""
    val_fraction: float = 0.15
    max_episodes: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.max_episodes < 0:
            raise ValueError(f"max_episodes must be >= 0, got {self.max_episodes}")


@dataclass(frozen=True)
class CollectSpec:
    """Simulator rollouts of a policy: by default the fault-injecting expert (``hivla.world_model.faults``,
    ``policy="faulty-expert"``), or any policy spec ``hivla eval --policy`` takes (a trained VLA run
    directory, ``expert``, ``hierarchical:...``; ``fault_rate`` then plays no part).

    Used to record a training dataset when ``--data`` holds none, and by the experiment.
    """

    suite: str = "tabletop-chain-2"
    embodiment: str = "floating"
    episodes: int = 40
    fault_rate: float = 0.3
    image_size: int = 64
    shifts: tuple[str, ...] = ()
    seed_offset: int = 0
    workers: int = 1
    policy: str = FAULTY_EXPERT
    backend: str = "local"  # where the rollouts run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.sim import EMBODIMENTS, SUITES, parse_shifts
        from hivla.utils.pool import check_backend

        if not self.policy:
            raise ValueError(
                f"policy must name a policy spec (a run directory, expert, hierarchical:...) or {FAULTY_EXPERT!r}"
            )

        check_backend(self.backend, self.address)
        SUITES.get(self.suite)
        EMBODIMENTS.get(self.embodiment)
        parse_shifts(list(self.shifts))
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes}, {self.workers}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], got {self.fault_rate}")
        if not 64 <= self.image_size <= 224:
            raise ValueError(f"image_size must be within 64..224 px (the env's range), got {self.image_size}")


@dataclass(frozen=True)
class WMExperimentConfig:
    """Everything ``hivla train-world-model`` needs: the model, optimization, data, and what to
    record when the data directory is empty."""

    name: str = "custom"
    model: WorldModelConfig = field(default_factory=WorldModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: WMDataConfig = field(default_factory=WMDataConfig)
    collect: CollectSpec = field(default_factory=CollectSpec)


WM_PRESETS: Registry[WMExperimentConfig] = Registry("world-model preset")

WM_PRESETS.add(
    "debug",
    WMExperimentConfig(
        name="debug",
        model=WorldModelConfig(
            cameras=("front",), image_size=32, widths=(8, 16, 32), latent_dim=32, hidden_dim=64,
            predictor_depth=1, horizon=3, outcome_horizon=10,
        ),
        train=TrainConfig(
            steps=30, batch_size=8, lr=2e-3, warmup_steps=3, log_every=5, val_every=0, val_batches=1,
            save_every=15,
        ),
        data=WMDataConfig(val_fraction=0.25),
        collect=CollectSpec(suite="tabletop-single", episodes=4),
    ),
)  # fmt: skip

WM_PRESETS.add(
    "quick",
    WMExperimentConfig(
        name="quick",
        model=WorldModelConfig(
            cameras=("front", "wrist"), image_size=32, widths=(16, 32, 64), latent_dim=128,
            hidden_dim=256, predictor_depth=2, horizon=6,
        ),
        train=TrainConfig(
            steps=1500, batch_size=16, lr=1e-3, warmup_steps=50, log_every=25, val_every=250,
            val_batches=4, save_every=500,
        ),
        data=WMDataConfig(val_fraction=0.15),
        collect=CollectSpec(suite="tabletop-chain-2", episodes=60, workers=1),
    ),
)  # fmt: skip

WM_PRESETS.add(
    "default",
    WMExperimentConfig(
        name="default",
        model=WorldModelConfig(
            cameras=("front", "wrist"), image_size=64, widths=(32, 64, 128), latent_dim=256,
            hidden_dim=512, predictor_depth=3, horizon=8, ema_momentum=0.996,
        ),
        train=TrainConfig(
            steps=30_000, batch_size=64, lr=5e-4, warmup_steps=500, log_every=50, val_every=2000,
            save_every=5000, mixed_precision="bf16",
        ),
        data=WMDataConfig(val_fraction=0.1),
        collect=CollectSpec(suite="tabletop-mixed", episodes=1000, workers=8),
    ),
)  # fmt: skip


def get_wm_preset(name: str, kind: str | None = None) -> WMExperimentConfig:
    """A named preset, with the model kind replaced when ``kind`` is given."""
    exp = WM_PRESETS.get(name)
    if kind is not None:
        exp = dataclasses.replace(exp, model=dataclasses.replace(exp.model, kind=kind))
    return exp
