"""Shift probe: evaluate policies in distribution and under every shift axis and level, and attribute
each failure to perception, reasoning, planning or control by oracle substitution (the same seeds
re-run with the oracle plan, the expert's trace, both) and by trace diagnosis (the policy's plan and
trace against the oracle's at each query). Reruns reuse finished conditions in --out.

Examples::

    hivla experiment shift-probe --policies runs/flat "hierarchical:low=runs/hier,planner=learned:runs/planner" --out runs/shift-probe
    hivla experiment shift-probe --policies "hierarchical:low=subtask-expert,planner=oracle" --axes lighting --levels 3 --episodes 2 --out /tmp/probe

Writes ``results.json``, ``summary.md`` and ``report.html`` into ``--out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    """Run the shift probe on one or more policies."""

    out: str = "runs/shift-probe"
    """Output directory: <policy>/as_is/<condition>/, <policy>/<substitution>/, results.json, summary.md,
    report.html."""
    policies: tuple[str, ...] = ("hierarchical:low=subtask-expert,planner=oracle",)
    """Policy specs as `hivla eval --policy` takes them; give a flat run and a hierarchical spec to see
    them side by side."""
    suite: str = "tabletop-chain-2"
    """Benchmark suite of every evaluation."""
    embodiment: str = "floating"
    """Embodiment of every evaluation."""
    episodes: int = 20
    """Held-out seeds per condition (the same for every condition and substitution)."""
    axes: tuple[str, ...] = ()
    """Shift axes (default: every axis of `hivla sim list`)."""
    levels: tuple[int, ...] = (1, 2, 3)
    """Shift levels of each axis."""
    first_seed_index: int = 0
    """Index of the first held-out seed."""
    max_steps: int | None = None
    """Step limit per episode (default: the env's, 90 per subtask)."""
    threshold_cm: float = 5.0
    """Trace diagnosis: a trace placing the right target farther than this from the expert's offset is a
    perception error."""
    threshold_uv: float = 0.25
    """Trace diagnosis of a policy without a trace that locates its target (trained with localize): a
    located target this far from where the true one projects (image coordinates, -1..1 across) is a
    perception error."""
    share: float = 0.5
    """Trace diagnosis: a part counts as wrong when wrong at this share of the failed subtask's queries
    (where it could be checked) or more; brief errors the policy recovers from do not."""
    videos: int = 1
    """Success and failure videos kept per condition (0: none)."""


def run(cfg: Config, quiet: bool = False) -> dict[str, Any]:
    from hivla.experiments.shift_probe import ProbeConfig, run_probe

    try:
        pcfg = ProbeConfig(
            out=cfg.out, policies=cfg.policies, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes,
            axes=cfg.axes, levels=cfg.levels, first_seed_index=cfg.first_seed_index, max_steps=cfg.max_steps,
            threshold_cm=cfg.threshold_cm, threshold_uv=cfg.threshold_uv, share=cfg.share, videos=cfg.videos,
        )  # fmt: skip
    except ValueError as err:
        raise SystemExit(f"hivla experiment shift-probe: {err}") from None
    results = run_probe(pcfg, log=(lambda _: None) if quiet else print)
    if not quiet:
        print((Path(cfg.out) / "summary.md").read_text())
    return {
        "out": cfg.out,
        "summary": f"{cfg.out}/summary.md",
        "report": f"{cfg.out}/report.html",
        "success": {
            name: {label: c["outcome"]["success"] for label, c in p["conditions"].items()}
            for name, p in results["policies"].items()
        },
        "agreement": {name: p["agreement"]["same"]["rate"] for name, p in results["policies"].items()},
        "wall_seconds": results["wall_seconds"],
    }
