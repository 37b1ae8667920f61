"""What the experiments share: a step (recording, training) run once per configuration and reused
after, the JSON files they keep and write, and the success cell their tables print."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hivla.errors import HivlaError

DONE_FILE = "experiment_step_done.json"  # default name of a finished step's record


class RunOptionsError(HivlaError, ValueError):
    """Workers or threads an experiment cannot run with."""


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Where an experiment's recordings, trainings and evaluations run (a base of its config):
    ``workers`` evaluation episodes at once, ``collect_workers`` recording workers, ``threads`` torch
    threads of every training (they run one at a time; 0: the machine's cores), ``backend`` local | ray
    (``hivla.utils.pool``) and its cluster ``address``."""

    workers: int = 1
    collect_workers: int = 1
    threads: int = 1
    backend: str = "local"
    address: str | None = None

    def check_run_options(self) -> None:
        """Raise for an unknown backend or address, or :class:`RunOptionsError` for fewer than one worker
        or negative threads."""
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        if min(self.workers, self.collect_workers) < 1 or self.threads < 0:
            raise RunOptionsError(
                f"workers and collect_workers must be >= 1 and threads >= 0, got {self.workers}, "
                f"{self.collect_workers}, {self.threads}"
            )


class OutputMismatchError(HivlaError, ValueError):
    """An experiment's output directory holds work done with other settings than the ones asked for."""


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when there is no such file."""
    return json.loads(path.read_text()) if path.is_file() else None


def run_once(
    run_dir: Path,
    key: dict[str, Any],
    what: str,
    work: Callable[[bool], dict[str, Any]],
    log: Callable[[str], None],
    done_file: str = DONE_FILE,
) -> dict[str, Any]:
    """Run ``work(resume)`` into ``run_dir`` unless its done-file holds ``key`` (then reuse it).

    A directory finished with another key is refused (:class:`OutputMismatchError`, naming both keys); a killed run (checkpoints,
    no done-file) is resumed. Returns ``{"key", "run", **work(...), "seconds"}``, also written to the
    done-file."""
    done = read_json(run_dir / done_file)
    if done is not None and done.get("key") == key:
        log(f"{what}: {run_dir} (reused)")
        return done
    if done is not None:
        raise OutputMismatchError(
            f"{run_dir} holds {what} made with {done.get('key')}, not {key}: choose a new --out, or delete "
            f"{run_dir} to redo it"
        )
    resume = (run_dir / "checkpoints").is_dir()
    log(f"{what} -> {run_dir}" + (" (resuming)" if resume else ""))
    start = time.perf_counter()
    result = {
        "key": key,
        "run": str(run_dir),
        **work(resume),
        "seconds": round(time.perf_counter() - start, 1),
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / done_file).write_text(json.dumps(result, indent=2, default=str))
    return result


def write_outputs(results: dict[str, Any], out: Path, summary: str, report: str) -> dict[str, Path]:
    """Write an experiment's ``results.json``, ``summary.md`` (``summary``) and ``report.html``
    (``report``) into ``out``; return their paths."""
    paths = {"results": out / "results.json", "summary": out / "summary.md", "report": out / "report.html"}
    paths["results"].write_text(json.dumps(results, indent=2, default=str))
    paths["summary"].write_text(summary)
    paths["report"].write_text(report, encoding="utf-8")
    return paths


def pct(x: float) -> str:
    """``0.625`` -> ``62%``."""
    return f"{100 * x:.0f}%"


def success_cell(block: dict[str, Any] | None) -> str:
    """``62% [45%, 77%] (8/13)`` for an evaluation's outcome block (success, Wilson 95% interval,
    counts); ``–`` for a cell that was not evaluated."""
    if block is None:
        return "–"
    lo, hi = block["success_ci95"]
    return f"{pct(block['success'])} [{pct(lo)}, {pct(hi)}] ({block['successes']}/{block['episodes']})"


def paired_outcomes(mine: dict[str, int], theirs: dict[str, int]) -> tuple[list[int], list[int]]:
    """Two arms' outcomes (seed -> 0/1) on the seeds both ran, in seed order: (mine, theirs)."""
    seeds = sorted(set(mine) & set(theirs))
    return [mine[s] for s in seeds], [theirs[s] for s in seeds]


def paired_difference(mine: list[int], theirs: list[int]) -> dict[str, Any]:
    """``{"difference", "ci95", "paired_seeds"}``: mean(mine) - mean(theirs) over paired outcomes with
    a paired bootstrap interval (``hivla.evaluation.stats.paired_difference_ci``)."""
    from hivla.evaluation.stats import paired_difference_ci

    diff, ci = paired_difference_ci(mine, theirs)
    return {"difference": diff, "ci95": ci, "paired_seeds": len(mine)}


def points_cell(comparison: dict[str, Any] | None) -> str:
    """``+27 [+16, +38]``: a comparison's difference of two success rates in percentage points with its
    interval (``paired_difference``'s block); ``–`` when it was not measured."""
    comparison = comparison or {}
    difference, ci = comparison.get("difference"), comparison.get("ci95")
    if difference is None or ci is None:
        return "–"
    return f"{100 * difference:+.0f} [{100 * ci[0]:+.0f}, {100 * ci[1]:+.0f}]"


def verdict(ci: list[float] | None) -> str:
    """What a difference's interval shows: ``better`` (above zero), ``worse`` (below), ``no difference
    shown`` (it holds zero), ``not measured``."""
    if ci is None:
        return "not measured"
    if ci[0] > 0:
        return "better"
    if ci[1] < 0:
        return "worse"
    return "no difference shown"
