"""One policy across bodies: one universal-action policy trained on every body's data vs one policy per
body vs zero-shot on a body held out of training (trained on the others), each evaluated on the same
held-out seeds per body; success with Wilson 95% intervals.

Examples::

    hivla experiment cross-embodiment --preset debug --out /tmp/cross-embodiment     # well under a minute
    hivla experiment cross-embodiment --preset quick --out runs/cross-embodiment --workers 2 --collect-workers 2
    hivla experiment cross-embodiment --preset quick --out runs/xe --embodiments floating arm6 arm5 panda mobile \\
        --held-out arm5 mobile                                                        # mixed widths

Writes ``results.json``, ``summary.md`` and ``report.html`` into ``--out``, next to its datasets, runs
and evaluations; a rerun reuses every finished step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hivla.cli.experiment_options import ExperimentRunOptions, with_size_overrides


@dataclass(frozen=True)
class Config(ExperimentRunOptions):
    """Run the cross-embodiment experiment. Zero / empty overrides keep the preset's value."""

    out: str = "runs/cross-embodiment"
    """Output directory (datasets, runs, evaluations, results.json, summary.md, report.html)."""
    preset: str = "quick"
    """Experiment size: debug (well under a minute), quick (~1.5 h on 2 CPU cores), standard (with mobile)."""
    suite: str = "tabletop-single"
    """Suite of every recording and evaluation."""
    embodiments: tuple[str, ...] = ()
    """Bodies to record, train on and evaluate (empty: floating arm6 arm5 panda; the standard preset
    adds mobile, whose 10-wide universal actions train together with the fixed bodies' 7)."""
    held_out: tuple[str, ...] = ("arm5",)
    """Bodies each left out of one training and evaluated zero-shot (among --embodiments)."""
    arms: tuple[str, ...] = ("per-body", "joint", "held-out")
    """Arms: per-body | joint | held-out."""
    episodes: int = 0
    """Expert episodes recorded per body."""
    steps: int = 0
    """Training steps of every policy (0: the experiment preset's)."""
    eval_episodes: int = 0
    """Held-out episodes per body and arm."""

    def __post_init__(self) -> None:
        if min(self.episodes, self.steps, self.eval_episodes) < 0:
            raise ValueError("episodes, steps and eval_episodes must be >= 0 (0: the preset's)")
        experiment(self)


def experiment(cfg: Config) -> Any:
    """The experiment config: the preset's sizes with the overrides."""
    from hivla.experiments.cross_embodiment.config import EXPERIMENT_PRESETS, CrossConfig

    sizes = with_size_overrides(
        EXPERIMENT_PRESETS.get(cfg.preset), cfg, ("episodes", "steps", "eval_episodes")
    )
    return CrossConfig(
        out=cfg.out, preset=cfg.preset, suite=cfg.suite, embodiments=tuple(cfg.embodiments),
        held_out=tuple(cfg.held_out), arms=tuple(cfg.arms), sizes=sizes, **cfg.run_options(),
    )  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.cross_embodiment.run import run_experiment

    results = run_experiment(experiment(cfg), log=(lambda _: None) if quiet else print)
    summary = {
        "out": cfg.out,
        "report": f"{cfg.out}/report.html",
        "success": {
            body: {arm: c["success"] for arm, c in row.items()} for body, row in results["table"].items()
        },
        "pooled_differences": {
            name: rows["pooled"]["difference"] for name, rows in results["differences"].items()
        },
        "wall_seconds": results["wall_seconds"],
    }
    if not quiet:
        print(f"wrote {cfg.out}/results.json, summary.md and report.html in {results['wall_seconds']:.0f} s")
    return summary
