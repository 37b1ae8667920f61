"""The reasoning ablation (``hivla experiment reasoning-ablation``): flat vs hierarchical vs
hierarchical + reasoning, with the same data, preset and optimization steps.

Arms (every arm is a VLA trained by ``hivla train`` on one tabletop-mixed dataset):

| arm | language input in training | evaluated as |
|-----|----------------------------|--------------|
| flat | the whole instruction (``language=task``) | the policy alone |
| hierarchical | the current subtask (``language=subtask``) | planner + monitor + the policy as low level |
| hierarchical+reasoning | the current subtask, a reasoning trace before the actions | as hierarchical |

An arm named in ``--policy-runs ARM=DIR`` uses that ``hivla train`` run instead (refused when its
policy was not trained as the arm is). Each arm is evaluated on held-out seeds of ``tabletop-single``
and ``tabletop-chain-2..5`` under every retry budget of ``--budgets`` (the flat arm, which has no
subtasks, once); with ``--oracle-rows`` the hierarchical arms again under the oracle planner and
monitor, reported apart as an upper bound. The env's own task predicate judges success. Step
latency is measured on one torch thread (under the first budget): the hierarchical arm with its
planner calls amortized over the episode's steps, the reasoning arm with the trace reused until the
subtask changes (k=0) and regenerated at every query (k=1).

Everything lands in ``out``: ``data/`` (when collected), ``planner/`` (when trained), ``arms/<arm>/``
(training runs), ``evals/flat/<suite>/``, ``evals/<arm>/<budget>/<suite>/``,
``evals/<arm>@oracle/<budget>/<suite>/`` and ``latency/<variant>/`` (evaluation results), and
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
    LONG_FROM,
    MONITOR_NOTE,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    SUITE_BY_LENGTH,
    AblationConfig,
    AblationError,
    Budget,
)
from hivla.experiments.steps import read_json, run_once

Log = Callable[[str], None]


# ---- inputs: data, planner, monitor --------------------------------------------------------------
def ensure_data(cfg: AblationConfig, log: Log) -> dict[str, Any]:
    """The dataset in ``cfg.data_dir``: reused when it holds episodes (``--data``) or all ``cfg.episodes``
    (``<out>/data``), else collected (tabletop-mixed expert episodes; a killed collection resumes)."""
    from hivla.data import format as data_format
    from hivla.data.recorder import CollectConfig, collect

    root = cfg.data_dir
    info = read_json(data_format.Paths(root).info) or {}
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
        accuracy = (read_json(metrics_file) or {}).get("accuracy")
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

    def work(resume: bool) -> dict[str, Any]:
        result = train(train_config(cfg, arm), run_dir, resume=resume, quiet=True)
        return {"step": result.get("step"), "final_loss": result.get("final_loss")}

    what = f"train {arm} ({cfg.preset} preset{f', {cfg.steps} steps' if cfg.steps else ''})"
    return run_once(run_dir, key, what, work, log, DONE_FILE)


# ---- given runs (--policy-runs) -------------------------------------------------------------------
def given_run(cfg: AblationConfig, arm: str, run: str, log: Log) -> dict[str, Any]:
    """An existing ``hivla train`` run used as ``arm`` in place of training, after checking that its
    policy was trained as the arm is (language key, reasoning) for ``cfg.embodiment``.

    The arm is evaluated from the run's latest checkpoint, named in the policy spec, so a rerun after
    more training evaluates again. Raises :class:`AblationError` for a run that does not fit."""
    from hivla.policies.base import read_policy_meta, resolve_checkpoint
    from hivla.training.trainer import EXPERIMENT_FILE

    try:
        ckpt = resolve_checkpoint(run)
    except FileNotFoundError as err:
        raise AblationError(f"--policy-runs {arm}={run}: {err}") from None
    _, pcfg = read_policy_meta(ckpt)
    want = ARM_TRAINING[arm]
    language = getattr(pcfg, "language_key", None)
    reasoning = bool(getattr(getattr(pcfg, "reasoning", None), "enabled", False))
    wrong = []
    if language != want["language"]:
        wrong.append(f"language={language!r} where the arm needs {want['language']!r}")
    if reasoning != want.get("reasoning", False):
        wrong.append(f"reasoning {'on' if reasoning else 'off'} where the arm needs it "
                     f"{'on' if want.get('reasoning') else 'off'}")  # fmt: skip
    embodiments = tuple(getattr(pcfg, "embodiments", ()))
    if embodiments and cfg.embodiment not in embodiments:
        wrong.append(f"embodiments {list(embodiments)} without --embodiment {cfg.embodiment}")
    if wrong:
        fits = [a for a, t in ARM_TRAINING.items() if t["language"] == language and
                t.get("reasoning", False) == reasoning]  # fmt: skip
        raise AblationError(
            f"--policy-runs {arm}={run}: the run's policy does not fit arm {arm!r}: "
            + "; ".join(wrong)
            + f". Arm {arm!r} is a VLA trained with `hivla train` "
            + " ".join(f"--{k} {v}" if v is not True else f"--{k}" for k, v in want.items())
            + (f"; this run fits arm {fits[0]!r}" if fits else "")
            + ". Pass a run trained that way, or leave the arm out of --policy-runs to train it here."
        )
    exp = read_json(Path(run) / EXPERIMENT_FILE) or {}
    info = {"preset": exp.get("name"), "steps": (exp.get("train") or {}).get("steps"),
            "data": (exp.get("data") or {}).get("path")}  # fmt: skip
    step = checkpoint_step(ckpt)
    unfinished = step is not None and isinstance(info["steps"], int) and step < info["steps"]
    log(f"{arm}: given run {run} (checkpoint {ckpt}, language={language}, reasoning={reasoning})"
        + (f"; WARNING: unfinished, step {step} of {info['steps']}" if unfinished else ""))  # fmt: skip
    return {"key": {"given": str(run), "language": language, "reasoning": reasoning, **info},
            "run": str(ckpt), "step": step, "unfinished": unfinished, "source": "given"}  # fmt: skip


def checkpoint_step(ckpt: Path) -> int | None:
    """The training step a checkpoint was saved at (its train_state), or None when it has none."""
    from hivla.training.checkpoint import STATE_DIR, TRAIN_STATE_FORMAT

    if not TRAIN_STATE_FORMAT.meta_path(ckpt / STATE_DIR).is_file():
        return None
    step = TRAIN_STATE_FORMAT.read_meta(ckpt / STATE_DIR).get("step")
    return int(step) if step is not None else None


def ensure_policy(cfg: AblationConfig, arm: str, log: Log) -> dict[str, Any]:
    """The arm's training run: the one given in ``--policy-runs``, else trained into ``<out>/arms/<arm>``."""
    given = cfg.runs.get(arm)
    if given is not None:
        return given_run(cfg, arm, given, log)
    return {**ensure_trained(cfg, arm, log), "source": "trained"}


# ---- evaluation ----------------------------------------------------------------------------------
def policy_spec(arm: str, run: str, planner: str, monitor: str, budget: Budget | None = None) -> str:
    """How ``hivla eval --policy`` names the arm: the run alone, or a hierarchical spec around it (with
    the budget's retries and replans when given)."""
    if arm == "flat":
        return run
    spec = f"hierarchical:low={run},planner={planner},monitor={monitor}"
    return spec if budget is None else f"{spec},retries={budget.retries},replans={budget.replans}"


def eval_dir(cfg: AblationConfig, arm: str, budget: Budget, oracle: bool, suite: str) -> Path:
    """``evals/flat/<suite>`` (the flat arm has no budget), ``evals/<arm>/<budget>/<suite>`` and
    ``evals/<arm>@oracle/<budget>/<suite>`` for the oracle rows."""
    if arm == "flat":
        return Path(cfg.out) / "evals" / arm / suite
    return Path(cfg.out) / "evals" / (f"{arm}@oracle" if oracle else arm) / budget.slug / suite


def ensure_eval(cfg: AblationConfig, label: str, spec: str, where: Path, suite: str, log: Log) -> Any:
    """Held-out episodes of ``spec`` on ``suite`` in ``where`` (reused when its saved settings match)."""
    from hivla.evaluation import EvalConfig, evaluate_or_reuse

    ecfg = EvalConfig(policy=spec, suite=suite, embodiment=cfg.embodiment, episodes=cfg.episodes_per_length,
                      workers=cfg.workers, videos=0, max_steps=cfg.max_steps, backend=cfg.backend,
                      address=cfg.address)  # fmt: skip
    results, reused = evaluate_or_reuse(ecfg, where)
    o = results.metrics["overall"]
    if reused:
        log(f"eval {label} on {suite}: reused ({o['successes']}/{len(results.episodes)})")
    else:
        log(f"eval {label} on {suite}: {o['successes']}/{o['episodes']} successes")
    return results


def arm_summary(runs: dict[int, Any]) -> dict[str, Any]:
    """Success per chain length (Wilson 95%), pooled over chains of 3 or more (``long``), and the
    average completed length over all lengths (normal 95% interval)."""
    from hivla.evaluation.metrics import outcome_block
    from hivla.evaluation.stats import mean_ci

    by_length = {str(n): outcome_block(r.episodes) for n, r in runs.items()}
    completed = mean_ci([e.completed for r in runs.values() for e in r.episodes])
    pooled = outcome_block([e for r in runs.values() for e in r.episodes])
    longs = [e for n, r in runs.items() if n >= LONG_FROM for e in r.episodes]
    return {"by_length": by_length, "avg_len": completed["mean"], "avg_len_ci95": completed["ci95"],
            "overall": pooled, "long": outcome_block(longs) if longs else None}  # fmt: skip


def evaluate_row(
    cfg: AblationConfig, arm: str, spec: str, budget: Budget, oracle: bool, log: Log, done: dict[str, Any]
) -> dict[str, Any]:
    """One row of the tables: ``spec`` on every chain length; ``done`` caches rows by spec within a run
    (the flat arm's row is the same under every budget)."""
    if spec not in done:
        label = arm if arm == "flat" else f"{arm}{' (oracle)' if oracle else ''} [{budget.name}]"
        runs = {n: ensure_eval(cfg, label, spec, eval_dir(cfg, arm, budget, oracle, SUITE_BY_LENGTH[n]),
                               SUITE_BY_LENGTH[n], log) for n in cfg.lengths}  # fmt: skip
        done[spec] = {"policy": spec, **arm_summary(runs)}
    return done[spec]


def evaluate_budgets(
    cfg: AblationConfig, runs: dict[str, str], planner: str, log: Log
) -> dict[str, dict[str, Any]]:
    """Per budget: the main rows (every arm, the learned or given planner and monitor) and, with
    ``cfg.oracle_rows``, the hierarchical arms again under the oracle planner and monitor."""
    done: dict[str, Any] = {}
    out: dict[str, dict[str, Any]] = {}
    for budget in cfg.budget_list:
        rows = {arm: evaluate_row(cfg, arm, policy_spec(arm, runs[arm], planner, cfg.monitor, budget), budget,
                                  False, log, done) for arm in cfg.arms}  # fmt: skip
        oracle = {}
        if cfg.oracle_rows:
            oracle = {arm: evaluate_row(cfg, arm, policy_spec(arm, runs[arm], "oracle", "oracle", budget), budget,
                                        True, log, done) for arm in cfg.arms if arm != "flat"}  # fmt: skip
        out[budget.name] = {
            "retries": budget.retries,
            "replans": budget.replans,
            "rows": rows,
            "oracle": oracle,
        }
    return out


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
    old = read_json(where / "latency.json")
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
    data = ensure_data(cfg, log) if cfg.trains else None
    planner = ensure_planner(cfg.planner, cfg.planner_steps, log) if cfg.hierarchical else None
    arms = {arm: ensure_policy(cfg, arm, log) for arm in cfg.arms}
    runs = {arm: a["run"] for arm, a in arms.items()}
    budgets = evaluate_budgets(cfg, runs, planner["spec"] if planner else "oracle", log)
    first = budgets[cfg.budget_list[0].name]["rows"]  # latency: the main stack under the first budget
    latency = {
        variant: measure_latency(cfg, variant, first[arm]["policy"], reuse, log)
        for variant, arm, reuse in latency_variants(cfg.arms)
    }
    results = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": _config_dict(cfg), "data": data,
               "planner": planner, "monitor": monitor, "arms": {arm: {"train": a} for arm, a in arms.items()},
               "budgets": budgets, "latency": latency,
               "wall_seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    write_outputs(results, out)
    return results


def _config_dict(cfg: AblationConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["lengths"], d["arms"] = list(cfg.lengths), list(cfg.arms)
    d["policy_runs"], d["budgets"] = list(cfg.policy_runs), list(cfg.budgets)
    return d
