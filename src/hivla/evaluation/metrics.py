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
from hivla.evaluation.stats import distribution, histogram, mean_ci, rate, wilson_interval
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
    """Every metric of an evaluation; all but ``by_shift`` pool the shift conditions."""
    return {
        "episodes": len(records),
        "overall": outcome_block(records),
        "by_chain_length": by_chain_length(records),
        "calvin": calvin(records),
        "by_shift": by_condition(records, conditions),
        "failures": failures(records),
        "safety": safety(records),
        "latency": latency(records, env_hz),
    }
