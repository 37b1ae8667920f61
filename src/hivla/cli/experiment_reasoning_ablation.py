"""Reasoning ablation: flat vs hierarchical vs hierarchical + reasoning VLAs trained on the same data,
preset and steps (or given as existing runs); success by chain length (Wilson 95%), average completed
length, under each retry budget of the hierarchical arms; step latency on one torch thread. Reruns
reuse finished trainings and evaluations in --out.

Examples::

    hivla experiment reasoning-ablation --data data/mixed --preset quick --planner runs/planner --out runs/ablation
    hivla experiment reasoning-ablation --policy-runs flat=runs/flat hierarchical=runs/sub hierarchical+reasoning=runs/sub-cot --planner runs/planner --monitor runs/monitor --oracle-rows --out runs/ablation-learned
    hivla experiment reasoning-ablation --preset debug --steps 20 --episodes 4 --episodes-per-length 1 --out /tmp/abl

Writes ``results.json``, ``summary.md`` and ``report.html`` and one SVG plot per retry budget into
``--out``; ``--report-only`` rebuilds the summary and report from ``results.json`` alone.
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
    policy_runs: tuple[str, ...] = ()
    """ARM=DIR: evaluate this `hivla train` run as the arm instead of training it (flat: trained with
    --language task; hierarchical: --language subtask; hierarchical+reasoning: --language subtask
    --reasoning; refused otherwise)."""
    budgets: tuple[str, ...] = ("none", "default")
    """Retry budgets the hierarchical arms are evaluated under, side by side: none (no retry, no replan),
    default (the hierarchical policy's own), or retries=N,replans=M. The flat arm has no retries."""
    oracle_rows: bool = False
    """Also evaluate the hierarchical arms with the oracle planner and monitor, reported as separate
    upper-bound rows (needs a learned --planner or --monitor)."""
    report_only: bool = False
    """Rebuild summary.md and report.html from --out/results.json without evaluating anything."""
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
    from hivla.experiments.reasoning_ablation.report import rerender
    from hivla.experiments.reasoning_ablation.run import run_ablation

    if cfg.report_only:
        paths = rerender(cfg.out)
        if not quiet:
            print(paths["summary"].read_text())
        return {"out": cfg.out, "summary": str(paths["summary"]), "report": str(paths["report"])}
    try:
        acfg = AblationConfig(
            out=cfg.out, data=cfg.data, episodes=cfg.episodes, embodiment=cfg.embodiment,
            image_size=cfg.image_size, preset=cfg.preset, steps=cfg.steps, planner=cfg.planner, planner_steps=cfg.planner_steps, monitor=cfg.monitor,
            episodes_per_length=cfg.episodes_per_length, lengths=cfg.lengths, arms=cfg.arms,
            latency_episodes=cfg.latency_episodes, max_steps=cfg.max_steps, workers=cfg.workers,
            policy_runs=cfg.policy_runs, budgets=cfg.budgets, oracle_rows=cfg.oracle_rows,
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
            budget: {
                arm: {n: b["success"] for n, b in r["by_length"].items()} for arm, r in block["rows"].items()
            }
            for budget, block in results["budgets"].items()
        },
        "avg_len": {
            budget: {arm: r["avg_len"] for arm, r in block["rows"].items()}
            for budget, block in results["budgets"].items()
        },
        "oracle_avg_len": {
            budget: {arm: r["avg_len"] for arm, r in block["oracle"].items()}
            for budget, block in results["budgets"].items()
            if block["oracle"]
        },
        "step_ms_median": {v: lat["step_ms"]["median"] for v, lat in results["latency"].items()},
        "wall_seconds": results["wall_seconds"],
    }
