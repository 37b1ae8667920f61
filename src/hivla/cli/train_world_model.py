"""Train a world model (latent generative or JEPA) from a preset (debug | quick | default).

Examples::

    hivla train-world-model --data data/wm --model jepa --preset quick --out runs/wm-jepa
    hivla train-world-model --data data/wm --model latent --preset quick --out runs/wm-latent
    hivla train-world-model --data data/pick --model jepa --out runs/wm-pick     # a `hivla collect` dataset
    hivla train-world-model --data data/wm --out runs/wm-jepa --resume

If ``--data`` holds no dataset yet, the preset's fault-injecting expert episodes (successes and
failures, labelled with contacts, collisions, objects leaving the workspace and drops) are
recorded there first. Both kinds train from the same data with the same trainer. The run
directory gets ``experiment.json``, ``checkpoints/step_*/`` (``world_model.json``,
``model.safetensors``, ``assets/stats.json``, ``train_state/``), ``tensorboard/`` and
``metrics.jsonl``; load it with ``hivla.world_model.load_world_model(RUN)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Train a world model. Zero / empty overrides keep the preset's value."""

    data: str = ""
    """Dataset directory; recorded there first if it holds no dataset (empty: record in memory)."""
    model: str = "jepa"
    """World-model kind: latent (decodes pixels) | jepa (EMA target encoder, no pixel loss)."""
    preset: str = "quick"
    """Named preset: debug (seconds), quick (minutes on 2 CPU cores), default (one GPU)."""
    out: str = "runs/world_model"
    """Run directory (checkpoints, logs)."""
    resume: bool = False
    """Continue the run in --out from its latest checkpoint (its saved config is used)."""
    steps: int = 0
    """Override the number of optimization steps."""
    batch_size: int = 0
    """Override the batch size."""
    episodes: int = 0
    """Override how many episodes to record when --data holds no dataset."""
    suite: str = ""
    """Override the suite recorded when --data holds no dataset."""
    threads: int = 0
    """Torch threads (0: the trainer default, all cores of the process; pass 1 per job when several share the machine)."""

    def __post_init__(self) -> None:
        from hivla.world_model.config import MODEL_KINDS, WM_PRESETS

        WM_PRESETS.get(self.preset)
        if self.model not in MODEL_KINDS:
            raise ValueError(f"--model must be one of {', '.join(MODEL_KINDS)}, got {self.model!r}")
        if min(self.steps, self.batch_size, self.episodes, self.threads) < 0:
            raise ValueError(
                "steps, batch_size, episodes and threads must be >= 0 (0 keeps the preset's value)"
            )


def experiment(cfg: Config) -> Any:
    """The preset with the command-line overrides applied."""
    from hivla.world_model.config import get_wm_preset

    exp = get_wm_preset(cfg.preset, cfg.model)
    train = exp.train
    for name in ("steps", "batch_size", "threads"):
        if getattr(cfg, name):
            train = dataclasses.replace(train, **{name: getattr(cfg, name)})
    collect = exp.collect
    if cfg.episodes:
        collect = dataclasses.replace(collect, episodes=cfg.episodes)
    if cfg.suite:
        collect = dataclasses.replace(collect, suite=cfg.suite)
    data = dataclasses.replace(exp.data, path=cfg.data)
    return dataclasses.replace(exp, train=train, collect=collect, data=data)


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.world_model.trainer import train

    result = train(experiment(cfg), cfg.out, resume=cfg.resume, quiet=quiet)
    result.pop("losses", None)
    if not quiet:
        val = result["val"]
        ratio = val.get("val/teacher_vs_copy_last")
        print(
            f"trained a {result['kind']} world model for {result['step']} steps on {result['train_episodes']} episodes: "
            f"final loss {result['final_loss']:.4f}, {result['samples_per_s']:.1f} samples/s"
            + (f"; held-out one-step error / copy-last {ratio:.3f}" if ratio is not None else "")
            + f"; checkpoint {result['checkpoint']}"
        )
    return result
