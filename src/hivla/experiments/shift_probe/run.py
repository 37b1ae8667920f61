"""The shift probe (``hivla experiment shift-probe``): a policy under every shift axis and level, and
every failure attributed to the first part of the stack that went wrong, by oracle substitution and
by trace diagnosis (:mod:`.attribution`).

Per policy and condition (in distribution, then each ``axis=level``):

1. ``as_is``: the held-out seeds evaluated by the harness (``hivla.evaluation.evaluate``) around a
   :class:`~.probe.ProbePolicy` that logs each query's plan and trace beside the oracle's.
2. For the seeds that failed, re-runs of the same seeds with oracle parts (the harness's own
   ``EpisodeWorker``): ``oracle_plan`` (planner and monitor), ``oracle_reasoning`` (the expert's
   target and phase fed into the trace), ``oracle_trace`` (the expert's whole trace) and
   ``oracle_all`` (both), those the policy's parts allow (:func:`~.probe.variants`).

Everything lands in ``out/<policy>/``: ``as_is/<condition>/`` (the harness's results.json and
videos, and probe.json: the query logs of the failed episodes) and ``<variant>/<condition>.json``; a rerun reuses every finished condition
that matches the configuration. Then ``results.json``, ``summary.md`` and ``report.html`` in ``out``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hivla.experiments.shift_probe.attribution import (
    CATEGORIES,
    SUBSTITUTIONS,
    agreement,
    diagnose,
    substitution,
    tally,
)
from hivla.experiments.shift_probe.config import IN_DISTRIBUTION, RESULTS_FORMAT, RESULTS_VERSION, ProbeConfig
from hivla.experiments.steps import read_json

Log = Callable[[str], None]
PROBE_FILE = "probe.json"
PROBE_VERSION = 2  # what a query log holds; older logs are re-run


def _dir_name(label: str) -> str:
    return label.replace("=", "").replace("+", "_")


def eval_config(cfg: ProbeConfig, spec: str, condition: Any, videos: int) -> Any:
    """The harness config of one condition (one condition per evaluation, so each is kept on disk)."""
    from hivla.evaluation import EvalConfig

    shifts = () if condition.label == IN_DISTRIBUTION else (condition.label,)
    return EvalConfig(policy=spec, suite=cfg.suite, embodiment=cfg.embodiment, episodes=cfg.episodes,
                      shifts=shifts, shift_mode="combined", workers=1, first_seed_index=cfg.first_seed_index,
                      videos=videos, max_steps=cfg.max_steps)  # fmt: skip


def _key(ecfg: Any) -> dict[str, Any]:
    d = ecfg.to_dict()
    return {k: d[k] for k in ("policy", "suite", "embodiment", "episodes", "shifts", "max_steps",
                              "first_seed_index", "split")}  # fmt: skip


class Policies:
    """Each policy loaded once per spec and plan (own or oracle) and reused across conditions and the
    trace variants (a fresh probe each time, which sets or clears the trace source)."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str], Any] = {}

    def get(self, spec: str, variant: str) -> Any:
        from hivla.experiments.shift_probe.probe import VARIANTS, load_variant

        key = (spec, VARIANTS[variant][0])
        if key not in self._loaded:
            self._loaded[key] = load_variant(spec, variant)
        return self._loaded[key]


def ensure_as_is(
    cfg: ProbeConfig, name: str, spec: str, condition: Any, policies: Policies, log: Log
) -> tuple[Any, dict]:
    """The as-is evaluation of one condition with its probe logs (reused when finished and matching)."""
    from hivla.evaluation import EvalResults, evaluate
    from hivla.experiments.shift_probe.probe import ProbePolicy

    where = Path(cfg.out) / name / "as_is" / _dir_name(condition.label)
    ecfg = eval_config(cfg, spec, condition, cfg.videos)
    key = {**_key(ecfg), "probe": PROBE_VERSION}
    saved = read_json(where / PROBE_FILE)
    if saved is not None and saved.get("key") == key and (where / "results.json").is_file():
        results = EvalResults.load(where)
        log(
            f"{name} {condition.label}: reused ({results.metrics['overall']['successes']}/{len(results.episodes)})"
        )
        return results, {int(s): v for s, v in saved["logs"].items()}
    probe = ProbePolicy(policies.get(spec, "as_is"))
    results = evaluate(ecfg, policy=probe)
    results.config["policy"] = spec  # the spec, not the wrapper's name
    results.save(where)
    failed = {e.seed: probe.logs[e.seed] for e in results.episodes if not e.success}  # only these are read
    (where / PROBE_FILE).write_text(json.dumps({"key": key, "logs": failed}))
    o = results.metrics["overall"]
    log(f"{name} {condition.label}: {o['successes']}/{o['episodes']} successes")
    return results, failed


def ensure_variant(
    cfg: ProbeConfig, name: str, spec: str, variant: str, condition: Any, seeds: list[int], image_size: int,
    policies: Policies, log: Log,
) -> dict[int, bool]:  # fmt: skip
    """Success of each of ``seeds`` re-run with the variant's oracle parts (reused when matching)."""
    from hivla.evaluation.runner import EpisodeWorker
    from hivla.experiments.shift_probe.probe import VARIANTS, ProbePolicy

    where = Path(cfg.out) / name / variant / f"{_dir_name(condition.label)}.json"
    ecfg = eval_config(cfg, spec, condition, 0)
    key = {**_key(ecfg), "variant": variant, "seeds": sorted(seeds)}
    saved = read_json(where)
    if saved is not None and saved.get("key") == key:
        return {int(s): v for s, v in saved["success"].items()}
    outcome: dict[int, bool] = {}
    if seeds:
        policy = ProbePolicy(policies.get(spec, variant), feed=VARIANTS[variant][1], record=False)
        worker = EpisodeWorker(ecfg, image_size, policy)
        try:
            for seed in sorted(seeds):
                outcome[seed] = bool(worker((condition.label, condition.shifts, seed)).success)
        finally:
            worker.close()
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(json.dumps({"key": key, "success": outcome}, indent=1))
    log(f"{name} {condition.label} {variant}: {sum(outcome.values())}/{len(seeds)} failures recovered")
    return outcome


def attribute_failures(
    cfg: ProbeConfig, results: Any, logs: dict[int, dict], recovered: dict[str, dict[int, bool]],
    parts: dict[str, str],
) -> list[dict[str, Any]]:  # fmt: skip
    """One entry per failed episode: both methods' answers and the harness's failure category."""
    out = []
    for ep in results.episodes:
        if ep.success:
            continue
        runs: dict[str, bool | None] = {}
        for part, variant in SUBSTITUTIONS:
            kind = parts["plan" if part == "planning" else "trace"]
            if kind != "oracle":
                runs[variant] = recovered[variant].get(ep.seed) if variant in recovered else None
        if "oracle_all" in recovered:
            runs["oracle_all"] = recovered["oracle_all"].get(ep.seed)
        out.append({
            "seed": ep.seed, "failure": ep.failure, "failed_subtask": ep.failed_subtask, "video": ep.video_path,
            "recovered": runs, "substitution": substitution(runs),
            "diagnosis": diagnose(logs[ep.seed], ep.completed, cfg.threshold_cm, cfg.share, cfg.threshold_uv),
        })  # fmt: skip
    return out


def axis_of(label: str) -> str:
    return label.partition("=")[0]


def policy_summary(
    conditions: dict[str, dict[str, Any]], records: list[Any], labels: list[str], variants: list[str]
) -> dict[str, Any]:
    """Per axis (levels pooled, ``none`` alone): both methods' tallies and the recovered share of each
    substitution; robustness (``hivla.evaluation.metrics.robustness``); the methods' agreement."""
    from hivla.evaluation.metrics import robustness
    from hivla.evaluation.stats import rate

    axes: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        axes.setdefault(axis_of(label), []).extend(conditions[label]["failures"])
    by_axis = {}
    for axis, failures in axes.items():
        recovered = {}
        for v in variants[1:]:
            ran = [f["recovered"][v] for f in failures if f["recovered"].get(v) is not None]
            recovered[v] = rate(sum(ran), len(ran))
        by_axis[axis] = {
            "diagnosis": tally([f["diagnosis"] for f in failures]),
            "substitution": tally([f["substitution"] for f in failures]),
            "recovered": recovered,
            "agreement": agreement([(f["diagnosis"], f["substitution"]) for f in failures]),
        }
    every = [f for fs in axes.values() for f in fs]
    return {
        "by_axis": by_axis,
        "robustness": robustness(records, labels),
        "agreement": agreement([(f["diagnosis"], f["substitution"]) for f in every]),
        "overall": {"diagnosis": tally([f["diagnosis"] for f in every]),
                    "substitution": tally([f["substitution"] for f in every])},
    }  # fmt: skip


def run_policy(cfg: ProbeConfig, name: str, spec: str, log: Log) -> dict[str, Any]:
    """Every condition of one policy: as-is, substitutions on its failures, attributions, summary."""
    from hivla.experiments.shift_probe.probe import stack, variants

    policies = Policies()
    parts = stack(spec, policies.get(spec, "as_is"))
    names = variants(parts)
    conditions, records, labels = {}, [], []
    for condition in cfg.conditions():
        results, logs = ensure_as_is(cfg, name, spec, condition, policies, log)
        failed = [e.seed for e in results.episodes if not e.success]
        size = results.config["image_size"]
        recovered = {
            v: ensure_variant(cfg, name, spec, v, condition, failed, size, policies, log) for v in names[1:]
        }
        conditions[condition.label] = {
            "outcome": results.metrics["overall"],
            "failures": attribute_failures(cfg, results, logs, recovered, parts),
            "results": str(results.source),
        }
        records += results.episodes
        labels.append(condition.label)
    return {"spec": spec, "parts": parts, "variants": names, "conditions": conditions,
            **policy_summary(conditions, records, labels, names)}  # fmt: skip


def run_probe(cfg: ProbeConfig, log: Log = print) -> dict[str, Any]:
    """Run the probe for every policy; write results.json, summary.md and report.html into ``cfg.out``."""
    import torch

    from hivla.experiments.shift_probe.report import write_outputs

    torch.set_num_threads(1)
    start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    policies = {name: run_policy(cfg, name, spec, log) for name, spec in cfg.named_policies().items()}
    config = dataclasses.asdict(cfg)
    config.update(policies=list(cfg.policies), axes=list(cfg.axes), levels=list(cfg.levels),
                  conditions=[c.label for c in cfg.conditions()], categories=list(CATEGORIES))  # fmt: skip
    results = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": config, "policies": policies,
               "wall_seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    write_outputs(results, out)
    return results
