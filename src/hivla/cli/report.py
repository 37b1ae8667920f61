"""Rebuild the HTML report from saved evaluation results; with several runs, compare them side by side.

Examples:
  hivla report eval/expert-tabletop-mixed-floating
  hivla report eval/run-a eval/run-b --out eval/compare
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro


@dataclass(frozen=True)
class Config:
    """Rebuild a report from results directories written by `hivla eval` (one or several runs)."""

    runs: Annotated[tuple[Path, ...], tyro.conf.Positional]
    """Results directories (or their results.json files)."""
    out: Path | None = None
    """Where to write report.html; default: the run's own directory, or eval/compare for several runs."""
    title: str | None = None
    """Report title."""

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError("give at least one results directory written by `hivla eval --out DIR`")


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.evaluation import EvalResults, write_report

    try:
        runs = [EvalResults.load(p) for p in cfg.runs]
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"hivla report: {err}") from None
    out = cfg.out or (runs[0].source if len(runs) == 1 else Path("eval") / "compare")
    path = write_report(runs if len(runs) > 1 else runs[0], out, title=cfg.title)
    if not quiet:
        for r in runs:
            o = r.metrics["overall"]
            lo, hi = o["success_ci95"]
            print(f"{r.label}: success {o['success']:.1%} [{lo:.1%}, {hi:.1%}] over {o['episodes']} episodes")
            if r.metrics.get("robustness"):
                from rich.console import Console

                from hivla.cli.eval import robustness_table

                Console().print(robustness_table(r.metrics["robustness"]))
        print(f"report: {path}")
    return {"report": str(path), "runs": [str(r.source) for r in runs]}
