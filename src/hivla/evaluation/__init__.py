"""Evaluation harness: roll a policy out over a benchmark suite, attribute failures, report.

    from hivla.evaluation import EvalConfig, evaluate, write_report

    results = evaluate(EvalConfig(policy="expert", suite="tabletop-mixed", episodes=50, workers=2))
    write_report(results, "eval/expert")   # results.json, videos/*.mp4, report.html

Policies are resolved through the runtime seam in :mod:`hivla.policies` (``load_rollout_policy``).
Modules, one job each: ``config`` (what to run), ``agent`` (chunk execution + safety around the policy), ``runner`` (episodes in worker processes
or Ray tasks, through ``hivla.utils.pool``), ``failures`` (failure attribution), ``metrics`` and ``stats``
(aggregates with Wilson intervals), ``results`` (JSON), ``overlay`` (captioned video frames) and
``report`` (the HTML report, built with ``hivla.reporting``).
"""

from hivla.evaluation.config import EvalConfig
from hivla.evaluation.failures import FAILURE_CATEGORIES
from hivla.evaluation.report import render_report, write_report
from hivla.evaluation.results import EpisodeRecord, EvalResults
from hivla.evaluation.runner import SuccessTally, evaluate, evaluate_or_reuse, run_episode

__all__ = [
    "FAILURE_CATEGORIES",
    "EpisodeRecord",
    "EvalConfig",
    "EvalResults",
    "SuccessTally",
    "evaluate",
    "evaluate_or_reuse",
    "render_report",
    "run_episode",
    "write_report",
]
