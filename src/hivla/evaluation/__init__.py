"""Evaluation harness: roll a policy out over a benchmark suite, attribute failures, report.

    from hivla.evaluation import EvalConfig, evaluate, write_report

    results = evaluate(EvalConfig(policy="expert", suite="tabletop-mixed", episodes=50, workers=2))
    write_report(results, "eval/expert")   # results.json, videos/*.mp4, report.html

Modules, one job each: ``config`` (what to run), ``policies`` (built-ins, checkpoints, adapter),
``agent`` (chunk execution + safety around the policy), ``runner`` (episodes in worker processes),
``pool`` (the processes), ``failures`` (failure attribution), ``metrics`` and ``stats``
(aggregates with Wilson intervals), ``results`` (JSON), ``overlay`` (captioned video frames) and
``report`` (the HTML report, built with ``hivla.reporting``).
"""

from hivla.evaluation.config import EvalConfig
from hivla.evaluation.failures import FAILURE_CATEGORIES
from hivla.evaluation.policies import (
    EVAL_POLICIES,
    ActionSpaceError,
    EvalPolicy,
    PolicyAdapter,
    check_compatible,
    load_eval_policy,
)
from hivla.evaluation.report import render_report, write_report
from hivla.evaluation.results import EpisodeRecord, EvalResults
from hivla.evaluation.runner import evaluate, run_episode

__all__ = [
    "EVAL_POLICIES",
    "FAILURE_CATEGORIES",
    "ActionSpaceError",
    "EpisodeRecord",
    "EvalConfig",
    "EvalPolicy",
    "EvalResults",
    "PolicyAdapter",
    "check_compatible",
    "evaluate",
    "load_eval_policy",
    "render_report",
    "run_episode",
    "write_report",
]
