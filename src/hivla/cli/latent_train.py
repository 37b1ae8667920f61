"""Train the latent action model on the video of one or more datasets (actions used only for the
optional alignment, where a dataset has them).

Examples:

    hivla latent train --data data/hand_video --preset quick --out runs/lam
    hivla latent train --data data/arm6 data/hand_video --preset quick --align-weight 0.5 --out runs/lam-aligned
    hivla latent train --data data/arm6 --preset debug --out /tmp/lam --steps 20

The run directory gets ``experiment.json``, ``checkpoints/step_*/`` (``latent_actions.json`` +
safetensors), ``metrics.jsonl`` (reconstruction, codebook perplexity and use, alignment) and
``tensorboard/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Train a latent action model. Zero / negative overrides keep the preset's value."""

    data: tuple[str, ...] = ()
    """Dataset directories (`hivla collect`, with or without --video-only), read as one."""
    preset: str = "quick"
    """Named preset: debug (seconds), quick (minutes on 2 CPU cores), standard (about an hour)."""
    out: str = "runs/latent"
    """Run directory (checkpoints, logs)."""
    resume: bool = False
    """Continue the run in --out from its latest checkpoint."""
    align_weight: float = -1.0
    """Weight of the loss aligning latents to universal actions where the data has them (0: pure video)."""
    frame_gap: int = 0
    """k: the latent explains frame t+k from frame t."""
    tokens: int = 0
    """Codes per latent action."""
    codebook_size: int = 0
    """Vectors in the codebook."""
    camera: str = ""
    """Camera whose video is read: front | wrist."""
    steps: int = 0
    """Optimization steps."""
    batch_size: int = 0
    """Global batch size."""
    max_episodes: int = -1
    """Episodes read per dataset (0: all)."""
    threads: int = 0
    """Torch threads (pass 1 when other jobs share the machine)."""

    def __post_init__(self) -> None:
        from hivla.latent_actions.config import LATENT_PRESETS

        LATENT_PRESETS.get(self.preset)
        if (
            min(self.frame_gap, self.tokens, self.codebook_size, self.steps, self.batch_size, self.threads)
            < 0
        ):
            raise ValueError("frame_gap, tokens, codebook_size, steps, batch_size and threads must be >= 0")
        if not self.resume:
            experiment(self)  # the configs' own checks as option errors


def experiment(cfg: Config) -> Any:
    """The preset with the command-line overrides applied."""
    from hivla.latent_actions.config import LATENT_PRESETS

    exp = LATENT_PRESETS.get(cfg.preset)
    model = {k: v for k, v in (("frame_gap", cfg.frame_gap), ("tokens", cfg.tokens),
                                ("codebook_size", cfg.codebook_size)) if v > 0}  # fmt: skip
    if cfg.align_weight >= 0:
        model["align_weight"] = cfg.align_weight
    if cfg.camera:
        model["camera"] = cfg.camera
    train = {
        k: v
        for k, v in (("steps", cfg.steps), ("batch_size", cfg.batch_size), ("threads", cfg.threads))
        if v > 0
    }
    data = {"paths": tuple(cfg.data)}
    if cfg.max_episodes >= 0:
        data["max_episodes"] = cfg.max_episodes
    return dataclasses.replace(
        exp,
        model=dataclasses.replace(exp.model, **model),
        data=dataclasses.replace(exp.data, **data),
        train=dataclasses.replace(exp.train, **train),
    )


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.latent_actions.trainer import train

    result = train(experiment(cfg), cfg.out, resume=cfg.resume, quiet=quiet)
    result.pop("losses", None)
    result.pop("model", None)
    if not quiet:
        val = result.get("val") or {}
        print(
            f"trained {result['step']} steps on {result['samples']} frame pairs "
            f"({result['samples_with_actions']} with actions); val reconstruction "
            f"{val.get('val/recon_mse', float('nan')):.5f} (copying frame t: {val.get('val/copy_mse', float('nan')):.5f}), "
            f"perplexity {val.get('val/perplexity', float('nan')):.2f}; checkpoint {result['checkpoint']}"
        )
    return result
