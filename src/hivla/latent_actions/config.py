"""Configuration of the latent action model and its training runs; named presets.

The presets were sized for speed on 2 CPU cores (``debug`` runs in seconds for the tests, ``quick``
in minutes, ``standard`` in about an hour); their quality has not been measured yet
(``hivla experiment latent-transfer`` measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hivla.configs.presets import TrainConfig
from hivla.registry import Registry
from hivla.types import CAMERAS


@dataclass(frozen=True)
class LatentActionConfig:
    """The latent action model (LAPA, Ye et al. 2024; Genie's LAM, Bruce et al. 2024).

    ``frame_gap``: k, the model explains frame t+k from frame t. ``tokens`` x ``codebook_size``:
    the discrete latent (``tokens`` codes, each from one shared codebook of ``codebook_size``
    vectors of ``code_dim``). ``widths``: channels of the stride-2 convolutions (the feature map is
    ``image_size / 2**len(widths)`` on a side). ``commitment``: beta of the VQ-VAE commitment loss
    (van den Oord et al. 2017). ``dead_code_steps``: a code the batches have not picked for about
    this many steps is moved onto a random latent of the batch (0 never). ``align_weight``: weight
    of the alignment loss that makes the quantized latent predict the k universal actions between
    the frames, on samples that have them (0: pure video). ``reverse_prob``: share of training pairs
    shown backwards (frame t+k first): scripted or practised motion is largely predictable from one
    frame, so the forward model can redraw frame t+k from frame t with little help from the codes; a
    pair that may run either way makes the latent say which way things move (one seed, quick preset,
    300 steps on 12 floating expert episodes, pure video: codebook perplexity 3.4 and MLP-probe R² on
    dx / dy 0.21 / 0.26 without it, 9.1 and 0.56 / 0.77 with 0.5; docs/latent_actions.md). Reversed
    pairs never enter the alignment loss.
    """

    camera: str = "front"
    image_size: int = 64
    frame_gap: int = 2
    tokens: int = 2
    codebook_size: int = 16
    code_dim: int = 16
    widths: tuple[int, ...] = (16, 32, 64)
    hidden_dim: int = 128
    commitment: float = 0.25
    dead_code_steps: int = 50
    align_weight: float = 0.0
    reverse_prob: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.reverse_prob < 1.0:
            raise ValueError(f"reverse_prob must be within [0, 1), got {self.reverse_prob}")
        if self.camera not in CAMERAS:
            raise ValueError(f"camera must be one of {CAMERAS}, got {self.camera!r}")
        if not self.widths or self.image_size % (2 ** len(self.widths)) or self.image_size < 16:
            raise ValueError(
                f"image_size must be >= 16 and divisible by 2**len(widths) = {2 ** len(self.widths)}, "
                f"got {self.image_size} with widths {self.widths}"
            )
        for name in ("frame_gap", "tokens", "code_dim", "hidden_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.codebook_size < 2:
            raise ValueError(f"codebook_size must be >= 2, got {self.codebook_size}")
        if self.commitment < 0 or self.align_weight < 0 or self.dead_code_steps < 0:
            raise ValueError(
                "commitment, align_weight and dead_code_steps must be >= 0, got "
                f"{self.commitment}, {self.align_weight}, {self.dead_code_steps}"
            )

    @property
    def grid(self) -> int:
        return self.image_size // (2 ** len(self.widths))


@dataclass(frozen=True)
class LatentDataConfig:
    """Which videos the model learns from: dataset directories read as one (actions are used
    for alignment where a dataset has them, never required). ``max_episodes`` per dataset (0: all)."""

    paths: tuple[str, ...] = ()
    val_fraction: float = 0.1
    max_episodes: int = 0
    cache_mb: int = 1024

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be within [0, 1), got {self.val_fraction}")
        if self.max_episodes < 0 or self.cache_mb < 1:
            raise ValueError(
                f"max_episodes must be >= 0 and cache_mb >= 1, got {self.max_episodes}, {self.cache_mb}"
            )


@dataclass(frozen=True)
class LatentExperimentConfig:
    """One ``hivla latent train`` run: the model, its videos and the optimization."""

    model: LatentActionConfig = field(default_factory=LatentActionConfig)
    data: LatentDataConfig = field(default_factory=LatentDataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


LATENT_PRESETS: Registry[LatentExperimentConfig] = Registry("latent action preset")
LATENT_PRESETS.add(
    "debug",
    LatentExperimentConfig(
        LatentActionConfig(image_size=32, tokens=2, codebook_size=8, code_dim=8, widths=(8, 16), hidden_dim=32,
                           dead_code_steps=5),
        LatentDataConfig(val_fraction=0.2),
        TrainConfig(steps=12, batch_size=8, lr=1e-3, warmup_steps=2, log_every=4, save_every=0, threads=1),
    ),
)  # fmt: skip
LATENT_PRESETS.add(
    "quick",
    LatentExperimentConfig(
        LatentActionConfig(image_size=64, tokens=2, codebook_size=16),
        LatentDataConfig(),
        TrainConfig(steps=3000, batch_size=32, lr=1e-3, warmup_steps=100, log_every=50, val_every=500,
                    save_every=1000),
    ),
)  # fmt: skip
LATENT_PRESETS.add(
    "standard",
    LatentExperimentConfig(
        LatentActionConfig(image_size=64, tokens=4, codebook_size=32, code_dim=32, widths=(32, 64, 128),
                           hidden_dim=256, dead_code_steps=200),
        LatentDataConfig(),
        TrainConfig(steps=20000, batch_size=64, lr=6e-4, warmup_steps=500, log_every=100, val_every=1000,
                    save_every=2000),
    ),
)  # fmt: skip
