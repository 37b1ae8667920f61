"""Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning VLAs trained on the same data,
preset and steps; success by chain length (Wilson 95%), average completed length, step latency on one
torch thread. Reruns reuse finished trainings and evaluations in --out.

Examples::

    hivla experiment reasoning-ablation --data data/mixed --preset quick --planner runs/planner --out runs/ablation
    hivla experiment reasoning-ablation --preset debug --steps 20 --episodes 4 --episodes-per-length 1 --out /tmp/abl

Writes ``results.json``, ``summary.md`` and ``report.html`` (with an SVG plot) into ``--out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    """Train and evaluate the three arms of the reasoning ablation."""

    out: str = "runs/reasoning-ablation"
    """Output directory: arms/, evals/, latency/, results.json, summary.md, report.html."""
    data: str = ""
    """A tabletop-mixed dataset from `hivla collect`; empty or missing: --episodes are collected into it
    (default <out>/data)."""
    episodes: int = 200
    """Episodes to collect when the dataset is missing."""
    embodiment: str = "floating"
    """Embodiment of the collected data and of every evaluation."""
    image_size: int = 64
    """Camera px of a dataset collected here (the quick preset trains at 64 px)."""
    preset: str = "quick"
    """Training preset of every arm: debug | quick | default."""
    steps: int = 0
    """Training steps of every arm (0: the preset's)."""
    planner: str = "oracle"
    """oracle, or a learned-planner directory (trained there when it holds no planner)."""
    planner_steps: int = 800
    """Steps when the learned planner has to be trained."""
    monitor: str = "oracle"
    """oracle (the env's predicate: an upper bound), or a `hivla monitor train` directory. The learned
    monitor's measured cost is in BENCHMARKS.md ('The subtask monitor')."""
    episodes_per_length: int = 20
    """Held-out episodes per chain length (tabletop-single and tabletop-chain-2..5)."""
    lengths: tuple[int, ...] = (1, 2, 3, 4, 5)
    """Chain lengths to evaluate."""
    arms: tuple[str, ...] = ("flat", "hierarchical", "hierarchical+reasoning")
    """Arms to run."""
    latency_episodes: int = 2
    """Episodes of tabletop-chain-3 per latency measurement."""
    max_steps: int | None = None
    """Step limit per evaluated episode (default: the env's, 90 per subtask)."""
    workers: int = 1
    """Evaluation episodes run at once: worker processes (each loads its own policy) or Ray tasks."""
    backend: str = "local"
    """Where the evaluations and the collection run: local (this machine's processes) | ray (tasks on a Ray cluster; needs
    pip install -e '.[ray]'; docs/scaling.md)."""
    address: str | None = None
    """Ray cluster to use with --backend ray: auto (the cluster this machine belongs to) or
    ray://HOST:PORT (Ray Client); default: start Ray on this machine."""


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.reasoning_ablation.config import AblationConfig
    from hivla.experiments.reasoning_ablation.run import run_ablation

    try:
        acfg = AblationConfig(
            out=cfg.out, data=cfg.data, episodes=cfg.episodes, embodiment=cfg.embodiment,
            image_size=cfg.image_size, preset=cfg.preset, steps=cfg.steps, planner=cfg.planner, planner_steps=cfg.planner_steps, monitor=cfg.monitor,
            episodes_per_length=cfg.episodes_per_length, lengths=cfg.lengths, arms=cfg.arms,
            latency_episodes=cfg.latency_episodes, max_steps=cfg.max_steps, workers=cfg.workers,
            backend=cfg.backend, address=cfg.address,
        )  # fmt: skip
    except ValueError as err:
        raise SystemExit(f"hivla experiment reasoning-ablation: {err}") from None
    results = run_ablation(acfg, log=(lambda _: None) if quiet else print)
    if not quiet:
        print((Path(cfg.out) / "summary.md").read_text())
    return {
        "out": cfg.out,
        "summary": f"{cfg.out}/summary.md",
        "report": f"{cfg.out}/report.html",
        "success": {
            arm: {n: b["success"] for n, b in a["by_length"].items()} for arm, a in results["arms"].items()
        },
        "avg_len": {arm: a["avg_len"] for arm, a in results["arms"].items()},
        "step_ms_median": {v: lat["step_ms"]["median"] for v, lat in results["latency"].items()},
        "wall_seconds": results["wall_seconds"],
    }
