"""Experiment configs (policy + training + data) and the named presets, in one list.

| preset  | for | sizes |
|---------|-----|-------|
| debug   | tests: the whole pipeline in seconds | 32 px, tiny CNN, 1-layer backbone, flow head, chunk 4, 6 steps |
| quick   | 2 CPU cores in minutes (``hivla quickstart``) | 64 px, two cameras, small FiLM ResNet with 16 keypoints, localization loss, random shifts, 2-layer backbone, L1 head (OpenVLA-OFT), chunk 10 (5 executed), 3500 steps of 16 at lr 1e-3 |
| standard | the low level of the hierarchical stack, at most 2 hours on 2 CPU cores | the quick network conditioned on the current subtask, universal actions (one policy for every embodiment), 18000 steps of 32 |
| default | one GPU | 128 px, EfficientNet-Lite0 fine-tuned, MiniLM, 6-layer backbone, flow head (pi0), bf16, 50k steps |

Variants via ``dataclasses.replace`` or CLI flags (``hivla train --preset quick --train.steps 500``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hivla.errors import HivlaError
from hivla.models import BackboneConfig, HeadConfig, LanguageConfig, VisionConfig
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.registry import Registry


@dataclass(frozen=True)
class RolloutEvalConfig:
    """``episodes`` held-out episodes of ``suite`` for at most ``max_steps`` steps, executing
    ``execute_steps`` actions of each chunk (0: the policy's own)."""

    suite: str = "tabletop-single"
    episodes: int = 2
    max_steps: int = 60
    execute_steps: int = 0
    split: str = "heldout"

    def __post_init__(self) -> None:
        if self.episodes < 1 or self.max_steps < 1 or self.execute_steps < 0:
            raise ValueError(
                f"need episodes >= 1, max_steps >= 1, execute_steps >= 0; got {self.episodes}, "
                f"{self.max_steps}, {self.execute_steps}"
            )
        if self.split not in ("heldout", "train"):
            raise ValueError(f"split must be 'heldout' or 'train', got {self.split!r}")


@dataclass(frozen=True)
class DataConfig:
    """``path``: a recorded dataset directory (``hivla collect``), or several separated by commas
    (read as one dataset: e.g. one per embodiment, or expert data plus DAgger rounds); empty:
    synthetic frames.

    ``val_fraction``: share of episodes held out for the validation loss. ``cache_features``:
    with a frozen vision encoder, compute its features once (stored in ``cache_dir``, default
    ``<out>/feature_cache``). ``keys``: which dataset columns the policy reads, for datasets named
    otherwise (LeRobot datasets recorded elsewhere): ``front=observation.images.laptop,state=COL``
    (see ``hivla.data.keymap.KeyMap.parse``; empty: hivla's names). ``video_cache_mb``: decoded
    frames kept in memory per dataset (MB); a dataset whose decoded frames do not fit is decoded
    again and again (re-rendered datasets are the first to outgrow the default).
    """

    path: str = ""
    synthetic_size: int = 256
    val_fraction: float = 0.1
    num_workers: int = 0
    cache_features: bool = True
    cache_dir: str = ""
    keys: str = ""
    video_cache_mb: int = 1024

    def __post_init__(self) -> None:
        if self.video_cache_mb < 1:
            raise ValueError(f"video_cache_mb must be >= 1, got {self.video_cache_mb}")
        if self.path and not all(p.strip() for p in self.path.split(",")):
            raise ValueError(f"data.path has an empty entry in {self.path!r}: separate directories by commas")
        if self.keys:
            from hivla.data.keymap import KeyMap

            KeyMap.parse(self.keys)  # raises for a malformed mapping
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.synthetic_size < 1 or self.num_workers < 0:
            raise ValueError(
                f"need synthetic_size >= 1 and num_workers >= 0, got {self.synthetic_size}, {self.num_workers}"
            )

    def paths(self) -> tuple[str, ...]:
        """The dataset directories ``path`` names (empty: synthetic frames)."""
        return tuple(p.strip() for p in self.path.split(",")) if self.path else ()


SCHEDULES = ("warmup_cosine", "one_cycle", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Optimization and bookkeeping. ``batch_size`` is global (split over processes).

    ``ema_decay``: 0 disables EMA. ``mixed_precision``: "no" or "bf16" (GPU). ``threads``: torch
    threads per process, 0 = cores / processes. ``*_every``: 0 disables. ``eval``: the rollout hook.
    ``schedule``: "warmup_cosine" (``warmup_steps``, ``min_lr_ratio``), "one_cycle" (Smith &
    Topin 2019, torch's OneCycleLR defaults, beta1 cycled too) or "constant".
    ``betas``: AdamW's (beta1, beta2). ``init``: start from this trained policy (a run or
    checkpoint directory: its weights, configuration and normalization statistics) instead of a new
    one, to fine-tune it on more data (e.g. a DAgger round); empty: a new policy. ``init_latent``:
    start a new policy's encoders and backbone from a latent-pretrained VLA (``hivla latent
    pretrain``; ``hivla.policies.vla.latent_init``), its action head new; empty: none.
    """

    steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.0
    seed: int = 0
    log_every: int = 10
    val_every: int = 0
    val_batches: int = 4
    save_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 0
    eval: RolloutEvalConfig = field(default_factory=RolloutEvalConfig)
    mixed_precision: str = "no"
    threads: int = 0
    schedule: str = "warmup_cosine"
    betas: tuple[float, float] = (0.9, 0.95)
    init: str = ""
    init_latent: str = ""

    def __post_init__(self) -> None:
        if self.init and self.init_latent:
            raise ValueError(
                "train.init (a trained policy) and train.init_latent (latent-pretrained weights for a new "
                "policy) exclude each other: pass one"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(f"train.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"train.betas must be two numbers in [0, 1), got {self.betas}")
        for name in ("steps", "batch_size", "keep_checkpoints", "val_batches"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "log_every", "val_every", "save_every", "eval_every", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0 or self.weight_decay < 0 or self.grad_clip < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError("need lr > 0, weight_decay >= 0, grad_clip >= 0 and 0 <= min_lr_ratio <= 1")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0 disables), got {self.ema_decay}")
        if self.mixed_precision not in ("no", "bf16"):
            raise ValueError(f"mixed_precision must be 'no' or 'bf16', got {self.mixed_precision!r}")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything ``hivla train`` needs: the policy, optimization and data.

    Raises :class:`AugmentationCacheError` when the policy's augmentations cannot apply to the
    cached features the data config asks for (:func:`check_augmentation_cache`)."""

    name: str = "custom"
    policy: VLAConfig = field(default_factory=VLAConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def __post_init__(self) -> None:
        check_augmentation_cache(self.policy, self.data)


class AugmentationCacheError(HivlaError, ValueError):
    """Training augmentations asked for together with cached frozen-encoder features."""


def check_augmentation_cache(policy: VLAConfig, data: DataConfig) -> None:
    """Refuse augmentations that cannot apply to cached features: with ``data.cache_features`` and a
    frozen encoder the features are computed once from the unaugmented images (and, for a VLM, the
    unaugmented texts), so image augmentations (and ``paraphrase`` for ``vision.kind='hf_vlm'``)
    would silently do nothing. Raises :class:`AugmentationCacheError` naming both ways out."""
    if not (data.cache_features and policy.vision.frozen):
        return
    lost = dict(policy.image_augmentations)
    if policy.vision.kind == "hf_vlm" and policy.paraphrase:
        lost["paraphrase"] = policy.paraphrase
    if lost:
        names = ", ".join(f"{k}={v}" for k, v in lost.items())
        raise AugmentationCacheError(
            f"{names} would change the inputs of the frozen {policy.vision.kind} encoder at every step, but "
            "data.cache_features=True computes its features once, from unaugmented inputs. Either set "
            f"data.cache_features=False (the encoder then runs every step: slower) or set {', '.join(lost)} to 0"
        )


PRESETS: Registry[ExperimentConfig] = Registry("preset")

PRESETS.add(
    "debug",
    ExperimentConfig(
        name="debug",
        policy=VLAConfig(
            vision=VisionConfig(widths=(8, 16)),
            language=LanguageConfig(buckets=512, max_words=8, dim=16),
            backbone=BackboneConfig(dim=32, depth=1, heads=2, readouts=1),
            head=HeadConfig(kind="flow", hidden_dim=64, depth=1, sample_steps=4),
            image_size=32,
            horizon=4,
        ),
        train=TrainConfig(
            steps=6,
            batch_size=8,
            lr=1e-3,
            warmup_steps=2,
            log_every=1,
            val_every=3,
            val_batches=1,
            save_every=3,
            eval=RolloutEvalConfig(episodes=1, max_steps=8),
        ),
        data=DataConfig(synthetic_size=64, val_fraction=0.2),
    ),
)

PRESETS.add(
    "quick",
    ExperimentConfig(
        name="quick",
        policy=VLAConfig(
            vision=VisionConfig(widths=(32, 64, 128), keypoints=16, film=True),
            language=LanguageConfig(buckets=4096, max_words=16, dim=64),
            backbone=BackboneConfig(dim=128, depth=2, heads=4, readouts=2),
            head=HeadConfig(kind="l1", hidden_dim=256, depth=3),
            image_size=64,
            horizon=10,
            execute_steps=5,  # query twice per chunk: 86% vs 72% (whole chunk) and 64% (3 steps), BENCHMARKS.md
            augment_shift=4,
            localize=1.0,
        ),
        train=TrainConfig(  # small steps at a high rate: 1e-3 beat 5e-4 by 16 points (BENCHMARKS.md)
            steps=3500,
            batch_size=16,
            lr=1e-3,
            warmup_steps=100,
            log_every=25,
            val_every=1000,
            save_every=2000,
            ema_decay=0.999,
            eval=RolloutEvalConfig(episodes=4, max_steps=90),
        ),
        data=DataConfig(num_workers=0),
    ),
)

PRESETS.add(
    "standard",
    ExperimentConfig(
        name="standard",
        policy=dataclasses.replace(
            PRESETS.get("quick").policy, language_key="subtask", action_space="universal"
        ),
        train=dataclasses.replace(  # 18000 x 32 at ~85 samples/s on 2 cores: 1.9 h
            PRESETS.get("quick").train,
            steps=18_000,
            batch_size=32,
            warmup_steps=300,
            val_every=2000,
            save_every=2000,
            eval=RolloutEvalConfig(suite="tabletop-mixed", episodes=4, max_steps=450),
        ),
        data=DataConfig(num_workers=0),
    ),
)

PRESETS.add(
    "default",
    ExperimentConfig(
        name="default",
        policy=VLAConfig(
            vision=VisionConfig(kind="efficientnet_lite0", freeze=False, grid=4),
            language=LanguageConfig(kind="minilm"),
            backbone=BackboneConfig(dim=384, depth=6, heads=6, readouts=4),
            head=HeadConfig(kind="flow", hidden_dim=512, depth=4, sample_steps=10),
            image_size=128,
            horizon=10,
        ),
        train=TrainConfig(
            steps=50_000,
            batch_size=128,
            lr=1e-4,
            warmup_steps=1000,
            log_every=50,
            val_every=2000,
            save_every=5000,
            ema_decay=0.999,
            mixed_precision="bf16",
            eval_every=5000,
            eval=RolloutEvalConfig(episodes=20, max_steps=180),
        ),
        data=DataConfig(num_workers=8),
    ),
)


def get_preset(name: str, **overrides) -> ExperimentConfig:
    """A named preset; ``overrides`` replace top-level fields (``policy=``, ``train=``, ``data=``)."""
    cfg = PRESETS.get(name)
    return dataclasses.replace(cfg, **overrides) if overrides else cfg
