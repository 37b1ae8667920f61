"""The reasoning ablation (``hivla experiment reasoning-ablation``): flat vs hierarchical vs
hierarchical + reasoning, with the same data, preset and optimization steps.

Arms (every arm is a VLA trained by ``hivla train`` on one tabletop-mixed dataset):

| arm | language input in training | evaluated as |
|-----|----------------------------|--------------|
| flat | the whole instruction (``language=task``) | the policy alone |
| hierarchical | the current subtask (``language=subtask``) | planner + monitor + the policy as low level |
| hierarchical+reasoning | the current subtask, a reasoning trace before the actions | as hierarchical |

Each arm is evaluated on held-out seeds of ``tabletop-single`` and ``tabletop-chain-2..5``; the env's
own task predicate judges success. Step latency is measured on one torch thread: the hierarchical
arm with its planner calls amortized over the episode's steps, the reasoning arm with the trace
reused until the subtask changes (k=0) and regenerated at every query (k=1).

Everything lands in ``out``: ``data/`` (when collected), ``planner/`` (when trained), ``arms/<arm>/``
(training runs), ``evals/<arm>/<suite>/`` and ``latency/<variant>/`` (evaluation results), and
``results.json``, ``summary.md``, ``report.html``. A rerun reuses every finished training and
evaluation that matches the configuration.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hivla.experiments.reasoning_ablation.config import (
    ARM_TRAINING,
    DATA_SUITE,
    DONE_FILE,
    MONITOR_NOTE,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    SUITE_BY_LENGTH,
    AblationConfig,
)

Log = Callable[[str], None]


# ---- inputs: data, planner, monitor --------------------------------------------------------------
def ensure_data(cfg: AblationConfig, log: Log) -> dict[str, Any]:
    """The dataset in ``cfg.data_dir``: reused when it holds episodes (``--data``) or all ``cfg.episodes``
    (``<out>/data``), else collected (tabletop-mixed expert episodes; a killed collection resumes)."""
    from hivla.data import format as data_format
    from hivla.data.recorder import CollectConfig, collect

    root = cfg.data_dir
    info = _read_json(data_format.Paths(root).info) or {}
    have = int(info.get("total_episodes", 0))
    if have and (cfg.data or have >= cfg.episodes):
        log(f"data: {root} ({have} episodes, reused)")
        return {"path": str(root), "episodes": have, "collected": False}
    log(f"data: collecting {cfg.episodes} {DATA_SUITE} episodes ({cfg.embodiment}) into {root}")
    out = collect(CollectConfig(out=root, suite=DATA_SUITE, embodiment=cfg.embodiment, episodes=cfg.episodes,
                                workers=cfg.collect_workers, image_size=cfg.image_size, resume=root.exists(),
                                backend=cfg.backend, address=cfg.address))  # fmt: skip
    return {"path": str(root), "episodes": out["episodes"], "collected": True}


def ensure_planner(
    planner: str, steps: int, log: Log, examples: int = 3000, eval_examples: int = 200
) -> dict[str, Any]:
    """``oracle``, or the learned planner in directory ``planner`` (trained there when absent, on
    ``examples`` instructions with chains of 1..5; exact-plan accuracy on ``eval_examples`` new ones)."""
    if planner == "oracle":
        return {"spec": "oracle", "dir": None, "accuracy": None}
    from hivla.planning.evaluate import generalization_splits, training_corpus
    from hivla.planning.learned import LearnedPlanner, PlannerConfig, plan_accuracy

    root = Path(planner)
    metrics_file = root / "metrics.json"
    if (root / "planner.json").is_file():
        log(f"planner: {root} (reused)")
        accuracy = (_read_json(metrics_file) or {}).get("accuracy")
        return {"spec": f"learned:{root}", "dir": str(root), "accuracy": accuracy}
    log(f"planner: training a learned planner ({steps} steps, words only) into {root}")
    longest = max(SUITE_BY_LENGTH)
    model = LearnedPlanner(PlannerConfig(features="learned", steps=steps))
    model.fit(training_corpus(examples, max_chain=longest))
    model.save(root)
    splits = generalization_splits(eval_examples, max_chain=longest)
    accuracy = {k: plan_accuracy(model, splits[k]) for k in ("in_distribution", "heldout_paraphrases")}
    metrics_file.write_text(
        json.dumps({"accuracy": accuracy, "steps": steps, "examples": examples}, indent=2)
    )
    return {"spec": f"learned:{root}", "dir": str(root), "accuracy": accuracy}


def monitor_info(monitor: str) -> dict[str, Any]:
    """What the summary says about the monitor: the note for oracle (no figures: it cites where they are
    measured), a learned one's val metrics read from its metrics.json."""
    from hivla.planning.monitor import TOLERANCE

    if monitor == "oracle":
        return {"spec": "oracle", "note": MONITOR_NOTE, "val": None}
    root = Path(monitor)
    if not (root / "monitor.json").is_file():
        raise FileNotFoundError(
            f"monitor {monitor!r}: expected oracle or a directory written by `hivla monitor train --data D "
            f"--out {monitor}` (it holds monitor.json)"
        )
    metrics = root / "metrics.json"
    saved = json.loads(metrics.read_text()) if metrics.is_file() else {}
    val, event = saved.get("val"), saved.get("val_event")
    note = "Learned SubtaskMonitor" + (
        f": val frame-level precision {val['precision']:.0%}, recall {val['recall']:.0%}"
        if val
        else " (no metrics.json)"
    )
    if event:
        note += (
            f"; event-level precision {event['precision']:.0%}, recall {event['recall']:.0%} "
            f"(within ±{TOLERANCE} steps)"
        )
    note += "."
    return {"spec": str(root), "note": note, "val": val}


# ---- training ------------------------------------------------------------------------------------
def train_config(cfg: AblationConfig, arm: str) -> Any:
    """The training config of ``arm``: same data, preset and steps for every arm, one thread, no rollouts."""
    from hivla.configs.overrides import with_overrides

    return with_overrides(cfg.preset, data=str(cfg.data_dir), steps=cfg.steps, eval_every=0, threads=1,
                          **ARM_TRAINING[arm])  # fmt: skip


def ensure_trained(cfg: AblationConfig, arm: str, log: Log) -> dict[str, Any]:
    """Train ``arm`` into ``<out>/arms/<arm>``; a finished matching run is reused, a killed one resumed."""
    from hivla.training import main as train

    run_dir = Path(cfg.out) / "arms" / arm
    key = {"preset": cfg.preset, "steps": cfg.steps, "data": str(cfg.data_dir), **ARM_TRAINING[arm]}
    done = _read_json(run_dir / DONE_FILE)
    if done is not None and done.get("key") == key:
        log(f"train {arm}: {run_dir} (reused)")
        return done
    if done is not None:
        raise ValueError(
            f"{run_dir} holds arm {arm!r} trained with {done.get('key')}, not {key}: choose a new --out, "
            f"or delete {run_dir} to retrain it"
        )
    resume = (run_dir / "checkpoints").is_dir()
    log(f"train {arm}: {cfg.preset} preset{f', {cfg.steps} steps' if cfg.steps else ''} -> {run_dir}"
        + (" (resuming)" if resume else ""))  # fmt: skip
    start = time.perf_counter()
    result = train(train_config(cfg, arm), run_dir, resume=resume, quiet=True)
    done = {"key": key, "run": str(run_dir), "step": result.get("step"), "final_loss": result.get("final_loss"),
            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    (run_dir / DONE_FILE).write_text(json.dumps(done, indent=2))
    return done


# ---- evaluation ----------------------------------------------------------------------------------
def policy_spec(arm: str, run: str, planner: str, monitor: str) -> str:
    """How ``hivla eval --policy`` names the arm: the run alone, or a hierarchical spec around it."""
    if arm == "flat":
        return run
    return f"hierarchical:low={run},planner={planner},monitor={monitor}"


def ensure_eval(cfg: AblationConfig, arm: str, spec: str, suite: str, log: Log) -> Any:
    """Held-out episodes of ``spec`` on ``suite`` in ``<out>/evals/<arm>/<suite>`` (reused when matching)."""
    from hivla.evaluation import EvalConfig, evaluate

    where = Path(cfg.out) / "evals" / arm / suite
    ecfg = EvalConfig(policy=spec, suite=suite, embodiment=cfg.embodiment, episodes=cfg.episodes_per_length,
                      workers=cfg.workers, videos=0, max_steps=cfg.max_steps, backend=cfg.backend,
                      address=cfg.address)  # fmt: skip
    old = _load_results(where)
    if old is not None and _same_eval(old.config, ecfg):
        log(f"eval {arm} on {suite}: reused ({old.metrics['overall']['successes']}/{len(old.episodes)})")
        return old
    results = evaluate(ecfg)
    results.save(where)
    o = results.metrics["overall"]
    log(f"eval {arm} on {suite}: {o['successes']}/{o['episodes']} successes")
    return results


def _same_eval(saved: dict[str, Any], ecfg: Any) -> bool:
    keys = ("policy", "suite", "embodiment", "episodes", "max_steps", "split", "first_seed_index")
    return all(saved.get(k) == getattr(ecfg, k) for k in keys)


def arm_summary(runs: dict[int, Any]) -> dict[str, Any]:
    """Success per chain length (Wilson 95%) and the average completed length over all lengths."""
    from hivla.evaluation.metrics import outcome_block
    from hivla.evaluation.stats import mean_ci

    by_length = {str(n): outcome_block(r.episodes) for n, r in runs.items()}
    completed = mean_ci([e.completed for r in runs.values() for e in r.episodes])
    pooled = outcome_block([e for r in runs.values() for e in r.episodes])
    return {"by_length": by_length, "avg_len": completed["mean"], "avg_len_ci95": completed["ci95"],
            "overall": pooled}  # fmt: skip


# ---- latency -------------------------------------------------------------------------------------
def latency_variants(arms: tuple[str, ...]) -> list[tuple[str, str, int | None]]:
    """(variant, arm, reasoning reuse k or None) for the arms being run."""
    out: list[tuple[str, str, int | None]] = []
    for arm in arms:
        if arm == "hierarchical+reasoning":
            out += [(f"{arm} (reuse k=0)", arm, 0), (f"{arm} (no reuse k=1)", arm, 1)]
        else:
            out.append((arm, arm, None))
    return out


def measure_latency(
    cfg: AblationConfig, variant: str, spec: str, reuse: int | None, log: Log
) -> dict[str, Any]:
    """Per-step latency of ``spec`` on one torch thread in this process, over a few held-out episodes."""
    import torch

    from hivla.evaluation import EvalConfig, evaluate
    from hivla.evaluation.stats import distribution
    from hivla.policies import load_rollout_policy

    where = Path(cfg.out) / "latency" / re.sub(r"[^A-Za-z0-9+.-]+", "_", variant).strip("_")
    key = {"spec": spec, "reuse": reuse, "suite": cfg.latency_suite, "episodes": cfg.latency_episodes,
           "max_steps": cfg.max_steps}  # fmt: skip
    old = _read_json(where / "latency.json")
    if old is not None and old.get("key") == key:
        log(f"latency {variant}: reused")
        return old
    torch.set_num_threads(1)
    policy = load_rollout_policy(spec)
    if reuse is not None:
        _vla(policy).set_reasoning_reuse(reuse)  # counts traces from here (a freshly loaded policy)
    ecfg = EvalConfig(policy=spec, suite=cfg.latency_suite, embodiment=cfg.embodiment,
                      episodes=cfg.latency_episodes, videos=0, max_steps=cfg.max_steps)  # fmt: skip
    lat = evaluate(ecfg, policy=policy).metrics["latency"]
    plan_ms = getattr(policy, "plan_ms", None)
    vla = _vla(policy) if reuse is not None else None
    traces = None if vla is None else {"generated": vla.trace_generations, "queries": vla.trace_calls}
    result = {"key": key, "variant": variant, "torch_threads": torch.get_num_threads(),
              "step_ms": lat["step_ms"], "query_ms": lat["query_ms"],
              "plan_ms": None if plan_ms is None else distribution(plan_ms), "traces": traces}  # fmt: skip
    where.mkdir(parents=True, exist_ok=True)
    (where / "latency.json").write_text(json.dumps(result, indent=2))
    log(
        f"latency {variant}: step median {lat['step_ms']['median']:.2f} ms, p95 {lat['step_ms']['p95']:.2f} ms"
    )
    return result


def _vla(policy: Any) -> Any:
    """The trained VLA inside a hierarchical policy's adapter (it owns ``set_reasoning_reuse``)."""
    inner = getattr(getattr(policy, "low", policy), "inner", None)
    if not callable(getattr(inner, "set_reasoning_reuse", None)):
        raise TypeError(
            f"policy {policy.name!r} has no set_reasoning_reuse(k): expected a VLA trained with reasoning"
        )
    return inner


# ---- the experiment ------------------------------------------------------------------------------
def run_ablation(cfg: AblationConfig, log: Log = print) -> dict[str, Any]:
    """Train, evaluate and time every arm; write results.json, summary.md and report.html into ``cfg.out``."""
    import torch

    from hivla.experiments.reasoning_ablation.report import write_outputs

    torch.set_num_threads(1)
    start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    monitor = monitor_info(cfg.monitor)
    data = ensure_data(cfg, log)
    planner = ensure_planner(cfg.planner, cfg.planner_steps, log) if cfg.hierarchical else None
    arms, specs = {}, {}
    for arm in cfg.arms:
        trained = ensure_trained(cfg, arm, log)
        specs[arm] = policy_spec(arm, trained["run"], planner["spec"] if planner else "oracle", cfg.monitor)
        runs = {n: ensure_eval(cfg, arm, specs[arm], SUITE_BY_LENGTH[n], log) for n in cfg.lengths}
        arms[arm] = {"train": trained, "policy": specs[arm], **arm_summary(runs)}
    latency = {
        variant: measure_latency(cfg, variant, specs[arm], reuse, log)
        for variant, arm, reuse in latency_variants(cfg.arms)
    }
    results = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": _config_dict(cfg), "data": data,
               "planner": planner, "monitor": monitor, "arms": arms, "latency": latency,
               "wall_seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    write_outputs(results, out)
    return results


def _config_dict(cfg: AblationConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["lengths"], d["arms"] = list(cfg.lengths), list(cfg.arms)
    return d


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _load_results(where: Path) -> Any:
    from hivla.evaluation import EvalResults

    return EvalResults.load(where) if (where / "results.json").is_file() else None
