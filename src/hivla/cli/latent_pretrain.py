"""Latent pretraining of the VLA (LAPA): the policy's encoders and backbone learn to predict the
latent action codes of action-free videos from images and instruction; then `hivla train
--init-latent` fine-tunes it with a new action head on a few labelled episodes.

Examples:

    hivla latent pretrain --lam runs/lam --data data/hand_video --preset quick --embodiment floating --out runs/lvla
    hivla train --preset quick --data data/floating_few --init-latent runs/lvla --out runs/lapa

Use the same --preset (and --action-space, --language) in both stages. The run directory gets
``experiment.json``, ``checkpoints/step_*/`` (``latent_vla.json`` + safetensors) and ``metrics.jsonl``
(``latent_acc``: how often the predicted code is the model's; the summary gives the commonest code's share).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Pretrain a VLA on latent actions. Zero / empty overrides keep the preset's value."""

    lam: str
    """The latent action model: a `hivla latent train` run or checkpoint."""
    data: tuple[str, ...] = ()
    """Datasets whose videos are read (`hivla collect`, --video-only or not; actions are ignored)."""
    preset: str = "quick"
    """The VLA preset (architecture and optimization), the same as at fine-tuning."""
    embodiment: str = "floating"
    """The robot the policy will be fine-tuned on (sets the state and action sizes)."""
    action_space: str = ""
    """native | universal, as at fine-tuning (empty: the preset's)."""
    language: str = ""
    """task | subtask, as at fine-tuning (empty: the preset's)."""
    out: str = "runs/latent-vla"
    """Run directory."""
    resume: bool = False
    """Continue the run in --out from its latest checkpoint."""
    steps: int = 0
    """Optimization steps."""
    batch_size: int = 0
    """Global batch size."""
    max_episodes: int = 0
    """Episodes read per dataset (0: all)."""
    threads: int = 0
    """Torch threads (pass 1 when other jobs share the machine)."""

    def __post_init__(self) -> None:
        from hivla.latent_actions.checkpoint import LATENT_FORMAT

        LATENT_FORMAT.resolve(self.lam, "`hivla latent train`")
        if min(self.steps, self.batch_size, self.max_episodes, self.threads) < 0:
            raise ValueError("steps, batch_size, max_episodes and threads must be >= 0")
        if not self.resume:
            experiment(self)


def experiment(cfg: Config) -> Any:
    from hivla.configs.presets import PRESETS
    from hivla.latent_actions.pretrain import LatentPretrainConfig, policy_for
    from hivla.latent_actions.trainer import check_paths

    check_paths(cfg.data)
    train = PRESETS.get(cfg.preset).train
    changes = {
        k: v for k, v in (("steps", cfg.steps), ("batch_size", cfg.batch_size), ("threads", cfg.threads)) if v
    }
    train = dataclasses.replace(train, eval_every=0, **changes)
    return LatentPretrainConfig(
        lam=cfg.lam, data=tuple(cfg.data), embodiment=cfg.embodiment, train=train, max_episodes=cfg.max_episodes,
        policy=policy_for(cfg.preset, cfg.embodiment, cfg.action_space, cfg.language),
    )  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.latent_actions.pretrain import pretrain

    result = pretrain(None if cfg.resume else experiment(cfg), cfg.out, resume=cfg.resume, quiet=quiet)
    result.pop("losses", None)
    if not quiet:
        val = result.get("val") or {}
        print(
            f"pretrained {result['step']} steps on {result['samples']} coded frames: val code accuracy "
            f"{val.get('val/latent_acc', float('nan')):.3f} (commonest code {result['majority_code_acc']:.3f}); "
            f"checkpoint {result['checkpoint']}; fine-tune with `hivla train --init-latent {cfg.out}`"
        )
    return result
