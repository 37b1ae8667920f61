"""RGB vs RGB-D vs RGB-D + contact: policies trained on the same episodes, differing only in the
sensors they read, evaluated on the same held-out seeds in distribution and under lighting, table
texture, camera and size shifts. Does depth make a policy more robust?

Examples::

    hivla experiment sensing --preset debug --out /tmp/sensing                     # about a minute
    hivla experiment sensing --preset quick --out runs/sensing --workers 2 --collect-workers 2 --threads 2
    hivla experiment sensing --preset quick --out runs/sensing --arms rgb rgbd points-contact
    hivla experiment sensing --preset quick --out runs/sensing-spatial --suite tabletop-spatial

Writes ``results.json``, ``summary.md`` and ``report.html`` into ``--out``, next to its dataset, runs
and evaluations; a rerun reuses every finished step (another --shift list evaluates again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hivla.cli.experiment_options import ExperimentRunOptions, with_size_overrides


@dataclass(frozen=True)
class Config(ExperimentRunOptions):
    """Run the sensing experiment. Zero / empty overrides keep the preset's value."""

    out: str = "runs/sensing"
    """Output directory (dataset, runs, evaluations, results.json, summary.md, report.html)."""
    preset: str = "quick"
    """Experiment size: debug (about a minute), quick (about an hour on 2 CPU cores), standard."""
    suite: str = "tabletop-single"
    """Suite of the recording and every evaluation (a built-in suite: external ones have no sensors)."""
    embodiment: str = "floating"
    """Embodiment of the recording and every evaluation."""
    arms: tuple[str, ...] = ("rgb", "rgbd", "rgbd-contact")
    """Arms among rgb, rgbd, rgbd-contact, points-contact; the first is the reference the others are
    compared with."""
    shift: tuple[str, ...] = ("lighting=2", "table=2", "camera=2", "size=2")
    """Shift conditions as axis=level, one per axis, e.g. --shift lighting=2 camera=1 (see `hivla sim list`)."""
    episodes: int = 0
    """Expert episodes recorded and trained on."""
    steps: int = 0
    """Training steps of every arm (0: the experiment preset's)."""
    eval_episodes: int = 0
    """Held-out episodes per arm and condition."""

    def __post_init__(self) -> None:
        if min(self.episodes, self.steps, self.eval_episodes) < 0:
            raise ValueError("episodes, steps and eval_episodes must be >= 0 (0: the preset's)")
        experiment(self)


def experiment(cfg: Config) -> Any:
    """The experiment config: the preset's sizes with the overrides."""
    from hivla.experiments.sensing.config import EXPERIMENT_PRESETS, SensingConfig

    sizes = with_size_overrides(
        EXPERIMENT_PRESETS.get(cfg.preset), cfg, ("episodes", "steps", "eval_episodes")
    )
    return SensingConfig(
        out=cfg.out, preset=cfg.preset, suite=cfg.suite, embodiment=cfg.embodiment, arms=tuple(cfg.arms),
        shifts=tuple(cfg.shift), sizes=sizes, **cfg.run_options(),
    )  # fmt: skip


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.sensing.run import run_experiment

    results = run_experiment(experiment(cfg), log=(lambda _: None) if quiet else print)
    summary = {
        "out": cfg.out,
        "report": f"{cfg.out}/report.html",
        "success": {arm: {c: b["success"] for c, b in a["conditions"].items()} for arm, a in results["arms"].items()},
        "versus_reference": {arm: {c: d["difference"] for c, d in per.items()}
                             for arm, per in results["versus_reference"].items()},
        "wall_seconds": results["wall_seconds"],
    }  # fmt: skip
    if not quiet:
        print(f"wrote {cfg.out}/results.json, summary.md and report.html in {results['wall_seconds']:.0f} s")
    return summary
