"""Latent actions across embodiments: the alignment matrix (linear and MLP probes from latent to
universal action, fitted on one embodiment and scored on every other) and the data efficiency of
latent pretraining (success vs labelled episodes without pretraining, after pretraining on every
embodiment's videos, and on the other embodiments' videos only).

Examples::

    hivla experiment latent-transfer --preset debug --out /tmp/latent-transfer          # about a minute
    hivla experiment latent-transfer --preset quick --out runs/latent-transfer --workers 2
    hivla experiment latent-transfer --preset quick --out runs/latent-transfer --align-weight 0   # pure video

Writes ``results.json``, ``summary.md``, ``report.html`` and ``latent_examples.png`` into ``--out``,
next to its datasets, runs and evaluations; a rerun reuses every finished step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hivla.cli.experiment_options import ExperimentRunOptions, with_size_overrides


@dataclass(frozen=True)
class Config(ExperimentRunOptions):
    """Run the latent-transfer experiment. Zero / empty overrides keep the preset's value."""

    out: str = "runs/latent-transfer"
    """Output directory (datasets, runs, evaluations, results.json, summary.md, report.html)."""
    preset: str = "quick"
    """Experiment size: debug (about a minute), quick (hours on 2 CPU cores), standard."""
    target: str = "floating"
    """The embodiment whose policies are fine-tuned and evaluated."""
    embodiments: tuple[str, ...] = ("floating", "arm6", "arm5", "hand")
    """Video sources and the alignment matrix's rows and columns (the target among them)."""
    suite: str = "tabletop-single"
    """Suite of every recording and evaluation."""
    align_weight: float = 0.5
    """Weight aligning latents to universal actions where robot actions exist (0: pure video)."""
    arms: tuple[str, ...] = ("scratch", "latent-all", "latent-others")
    """Data-efficiency arms: scratch | latent-all | latent-others."""
    fractions: tuple[float, ...] = ()
    """Shares of the target's labelled episodes to fine-tune on (empty: the preset's)."""
    labelled_episodes: int = 0
    """Labelled episodes per embodiment."""
    video_episodes: int = 0
    """Video-only episodes per embodiment."""
    eval_episodes: int = 0
    """Held-out episodes per arm and fraction."""
    finetune_steps: int = 0
    """Fine-tuning steps (0: the VLA preset's)."""
    lam_steps: int = 0
    """Latent action model training steps (0: its preset's)."""
    pretrain_steps: int = 0
    """Latent pretraining steps of the VLA (0: the experiment preset's)."""

    def __post_init__(self) -> None:
        if min(self.labelled_episodes, self.video_episodes, self.eval_episodes, self.finetune_steps) < 0:
            raise ValueError(
                "labelled_episodes, video_episodes, eval_episodes and finetune_steps must be >= 0"
            )
        experiment(self)


def experiment(cfg: Config) -> Any:
    """The experiment config: the preset's sizes with the overrides."""
    from hivla.experiments.latent_transfer.config import EXPERIMENT_PRESETS, TransferConfig

    sizes = EXPERIMENT_PRESETS.get(cfg.preset)
    names = (
        "labelled_episodes",
        "video_episodes",
        "eval_episodes",
        "finetune_steps",
        "lam_steps",
        "pretrain_steps",
    )
    sizes = with_size_overrides(sizes, cfg, names)
    if cfg.fractions:
        sizes = dataclasses.replace(sizes, fractions=tuple(cfg.fractions))
    return TransferConfig(
        out=cfg.out, preset=cfg.preset, target=cfg.target, embodiments=tuple(cfg.embodiments), suite=cfg.suite,
        align_weight=cfg.align_weight, arms=tuple(cfg.arms), sizes=sizes, **cfg.run_options(),
    )  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.latent_transfer.run import run_experiment

    results = run_experiment(experiment(cfg), log=(lambda _: None) if quiet else print)
    summary = {
        "out": cfg.out,
        "report": f"{cfg.out}/report.html",
        "r2_motion": {k: {a: {b: s["r2_motion"] for b, s in row.items()} for a, row in m.items()}
                    for k, m in results["matrix"].items()},
        "success": {arm: {n: c["success"] for n, c in curve.items()} for arm, curve in results["curves"].items()},
        "wall_seconds": results["wall_seconds"],
    }  # fmt: skip
    if not quiet:
        print(f"wrote {cfg.out}/results.json, summary.md and report.html in {results['wall_seconds']:.0f} s")
    return summary
