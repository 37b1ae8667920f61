"""Aggregate episode records into metrics; every rate carries a 95% Wilson interval.

Records are duck-typed: anything with ``success``, ``progress``, ``completed``, ``steps`` and
``chain_length`` works for the outcome blocks (``hivla.evaluation.reference`` results too); the full
metrics also read ``condition``, ``failure``, ``interventions``, ``safety_stop``, ``step_ms`` and
``query_ms`` (``hivla.evaluation.results.EpisodeRecord``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hivla.evaluation.failures import FAILURE_CATEGORIES
from hivla.evaluation.stats import distribution, histogram, mean_ci, paired_ratio_ci, rate, wilson_interval
from hivla.safety import INTERVENTION_KINDS


def outcome_block(records: Sequence[Any]) -> dict[str, Any]:
    """Success (with its Wilson interval), progress, completed subtasks and steps of some episodes."""
    n = len(records)
    wins = sum(bool(r.success) for r in records)
    progress = mean_ci([r.progress for r in records])
    return {
        "episodes": n,
        "successes": wins,
        "success": wins / n if n else 0.0,
        "success_ci95": list(wilson_interval(wins, n)),
        "progress": progress["mean"],
        "progress_ci95": progress["ci95"],
        "mean_completed": float(np.mean([r.completed for r in records])) if n else 0.0,
        "mean_steps": float(np.mean([r.steps for r in records])) if n else 0.0,
    }


def by_task(records: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Outcome blocks per task of single-task episodes (an external suite's tasks, or the subtask
    kinds of chains of one); empty when any episode is a longer chain."""
    if not records or any(r.chain_length != 1 for r in records):
        return {}
    names = sorted({r.task_kinds[0] for r in records})
    return {n: outcome_block([r for r in records if r.task_kinds[0] == n]) for n in names}


def by_chain_length(records: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """:func:`outcome_block` per chain length (keys are the lengths as strings)."""
    lengths = sorted({r.chain_length for r in records})
    return {str(n): outcome_block([r for r in records if r.chain_length == n]) for n in lengths}


def calvin(records: Sequence[Any]) -> dict[str, Any]:
    """CALVIN-style chain metrics (Mees et al. 2022): the average number of subtasks completed in
    a row, and the rate of completing at least k subtasks among episodes whose chain has >= k."""
    avg = mean_ci([r.completed for r in records])
    longest = max((r.chain_length for r in records), default=0)
    at_least = {}
    for k in range(1, longest + 1):
        eligible = [r for r in records if r.chain_length >= k]
        at_least[str(k)] = rate(sum(r.completed >= k for r in eligible), len(eligible))
    return {"avg_len": avg["mean"], "avg_len_ci95": avg["ci95"], "completed_at_least": at_least}


def by_condition(records: Sequence[Any], conditions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """:func:`outcome_block` per shift condition, with the success change vs ``none`` if present."""
    blocks = {c: outcome_block([r for r in records if r.condition == c]) for c in conditions}
    base = blocks.get("none")
    for block in blocks.values():
        block["delta_success"] = block["success"] - base["success"] if base else None
    return blocks


ROBUSTNESS_BOOTSTRAP = 2000  # resamples of the ratio intervals
ROBUSTNESS_SEED = 0  # their rng seed: the same results give the same intervals


def robustness(records: Sequence[Any], conditions: Sequence[str]) -> dict[str, Any]:
    """Success under each single-axis shift relative to the unshifted baseline ``none``.

    For every condition ``axis=level``: its successes, the success rate, and the ratio of that rate
    to ``none``'s on the seeds both ran, with a 95% paired percentile bootstrap interval over those
    seeds (:func:`~hivla.evaluation.stats.paired_ratio_ci`, 2000 resamples, rng seed 0; a ratio
    above 1 means the shifted condition did better). The ratio and its interval are None when the
    baseline never succeeded. Combined conditions (``a=1+b=2``) are left out. -> ``{"baseline":
    outcome, "method": str, "axes": {axis: {level: block}}}``, or ``{}`` without ``none`` or a
    single-axis condition.
    """
    shifted = [c for c in conditions if c != "none" and "+" not in c and "=" in c]
    if "none" not in conditions or not shifted:
        return {}
    base = {r.seed: float(bool(r.success)) for r in records if r.condition == "none"}
    axes: dict[str, dict[str, Any]] = {}
    for label in shifted:
        axis, _, level = label.partition("=")
        outcome = {r.seed: float(bool(r.success)) for r in records if r.condition == label}
        seeds = sorted(set(outcome) & set(base))
        ratio, ci = paired_ratio_ci(
            [outcome[s] for s in seeds], [base[s] for s in seeds], ROBUSTNESS_BOOTSTRAP, ROBUSTNESS_SEED
        )
        wins, n = int(sum(outcome.values())), len(outcome)
        axes.setdefault(axis, {})[level] = {
            "episodes": n, "successes": wins, "success": wins / n if n else 0.0, "paired_seeds": len(seeds),
            "ratio": ratio, "ratio_ci95": ci,
        }  # fmt: skip
    wins, n = int(sum(base.values())), len(base)
    return {
        "baseline": {"episodes": n, "successes": wins, "success": wins / n if n else 0.0},
        "method": f"paired percentile bootstrap over seeds, {ROBUSTNESS_BOOTSTRAP} resamples, rng seed {ROBUSTNESS_SEED}",
        "axes": axes,
    }


def failures(records: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Rate of each failure category over all episodes."""
    n = len(records)
    return {c: rate(sum(r.failure == c for r in records), n) for c in FAILURE_CATEGORIES}


def safety(records: Sequence[Any]) -> dict[str, Any]:
    """Interventions by kind per executed step, and the episodes with any intervention or a stop."""
    steps = sum(r.steps for r in records)
    n = len(records)
    by_kind = {}
    for kind in INTERVENTION_KINDS:
        count = sum(r.interventions.get(kind, 0) for r in records)
        by_kind[kind] = rate(min(count, steps), steps)
    touched = sum(any(r.interventions.values()) for r in records)
    return {
        "steps": steps,
        "by_kind": by_kind,
        "episodes_with_intervention": rate(touched, n),
        "safety_stops": rate(sum(bool(r.safety_stop) for r in records), n),
    }


def latency(records: Sequence[Any], env_hz: float) -> dict[str, Any]:
    """Per-step action latency of the policy stack and per-query inference latency (ms)."""
    step_ms = [t for r in records for t in r.step_ms]
    query_ms = [t for r in records for t in r.query_ms]
    step = distribution(step_ms)
    hz = 1000.0 / step["mean"] if step["mean"] > 0 else None  # None: no step was timed
    return {
        "step_ms": step,
        "query_ms": distribution(query_ms),
        "queries_per_episode": len(query_ms) / len(records) if records else 0.0,
        "control_hz": hz,
        "env_hz": env_hz,
        "realtime": hz is not None and hz >= env_hz,
        "step_ms_histogram": histogram(step_ms),
    }


def compute_metrics(records: Sequence[Any], conditions: Sequence[str], env_hz: float) -> dict[str, Any]:
    """Every metric of an evaluation; all but ``by_shift`` and ``robustness`` pool the shift conditions."""
    return {
        "episodes": len(records),
        "overall": outcome_block(records),
        "by_chain_length": by_chain_length(records),
        "by_task": by_task(records),
        "calvin": calvin(records),
        "by_shift": by_condition(records, conditions),
        "robustness": robustness(records, conditions),
        "failures": failures(records),
        "safety": safety(records),
        "latency": latency(records, env_hz),
    }
