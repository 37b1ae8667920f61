"""World-model validation: prediction error per shift axis and level, error vs task failure, imagined
events and outcomes, real vs imagined frames, the implicit reward, and the safety veto under shifts.

Examples::

    hivla experiment world-model --runs runs/wm-latent runs/wm-jepa --preset quick --out runs/wm-experiment
    hivla experiment world-model --runs runs/wm-jepa --preset debug --out /tmp/wm-exp --no-veto

Writes ``results.json``, ``report.html`` (self-contained) and ``figures/`` (PNG frames, SVG charts)
into ``--out``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Run the world-model experiment on trained world models (`hivla train-world-model` runs)."""

    runs: tuple[str, ...] = ()
    """World-model run (or checkpoint) directories to evaluate, e.g. one latent and one JEPA model."""
    preset: str = "quick"
    """Experiment size: debug (seconds), quick (minutes on 2 CPU cores), default (a workstation)."""
    out: str = "runs/wm-experiment"
    """Output directory (results.json, report.html, figures/)."""
    veto_run: str = ""
    """World model used by the safety veto (default: the first of --runs)."""
    veto: bool = True
    """Run the with/without-veto evaluation (--no-veto skips it)."""
    episodes: int = 0
    """Override the held-out episodes per shift condition."""
    veto_episodes: int = 0
    """Override the veto evaluation's episodes per condition and arm."""
    threshold: float = 0.0
    """Override the veto threshold (probability of a violation within the executed steps)."""
    workers: int = 0
    """Override the rollouts run at once (worker processes, or Ray tasks in flight)."""
    backend: str = "local"
    """Where the rollouts run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""

    def __post_init__(self) -> None:
        from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS

        EXPERIMENT_PRESETS.get(self.preset)
        if not self.runs:
            raise ValueError(
                "pass --runs RUN [RUN ...]: trained world models (`hivla train-world-model --out RUN`)"
            )
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        if min(self.episodes, self.veto_episodes, self.workers) < 0 or not 0.0 <= self.threshold < 1.0:
            raise ValueError("episodes, veto_episodes and workers must be >= 0 and threshold within [0, 1)")


def spec(cfg: Config) -> Any:
    """The preset with the command-line overrides applied."""
    from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS

    s = EXPERIMENT_PRESETS.get(cfg.preset)
    probe, veto = s.probe, s.veto
    if cfg.episodes:
        probe = dataclasses.replace(probe, episodes=cfg.episodes)
    if cfg.veto_episodes:
        veto = dataclasses.replace(veto, episodes=cfg.veto_episodes)
    if cfg.threshold:
        veto = dataclasses.replace(veto, veto=dataclasses.replace(veto.veto, threshold=cfg.threshold))
    if cfg.workers:
        probe = dataclasses.replace(probe, workers=cfg.workers)
        veto = dataclasses.replace(veto, workers=cfg.workers)
    probe = dataclasses.replace(probe, backend=cfg.backend, address=cfg.address)
    veto = dataclasses.replace(veto, backend=cfg.backend, address=cfg.address)
    return dataclasses.replace(s, probe=probe, veto=veto, run_veto=cfg.veto)


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.world_model_validation.run import run_experiment

    results = run_experiment(list(cfg.runs), spec(cfg), cfg.out, veto_run=cfg.veto_run or None, quiet=quiet)
    return {
        "out": cfg.out,
        "report": f"{cfg.out}/report.html",
        "failure_correlation": {m["name"]: m["failure_correlation"]["spearman"] for m in results["models"]},
        "veto": None if results["veto"] is None else {
            k: {a: v[a]["violations_per_episode"]["mean"] for a in ("policy", "policy+veto")}
            for k, v in results["veto"]["summary"].items()
        },
        "wall_seconds": results["wall_seconds"],
    }  # fmt: skip
