"""The cross-embodiment experiment (``hivla experiment cross-embodiment``): does one universal-action
policy trained on several bodies beat one policy per body, and how far does it reach a body it never
saw?

1. Data, per body: expert episodes of the suite (``data/<body>``).
2. Trainings, every one the same VLA preset with universal actions and the shared proprioception
   (``VLAConfig.proprio='shared'``: the hand pose and gripper every body has), so the arms differ in
   their data only: ``per-body/<body>`` on that body's episodes; ``joint`` on every body's;
   ``held-out/<body>`` on every body's but that one. A wheeled body's 10-wide actions train together
   with the fixed bodies' 7 (padded, the base part masked out of their loss).
3. Evaluations on the same held-out seeds per body (``evals/<arm>/<body>``): per-body and joint on
   every body, held-out zero-shot on its own body; success with Wilson 95% intervals, and each
   comparison of arms on the same seeds (joint minus per-body, zero-shot minus per-body and minus
   joint) with a paired bootstrap interval, per body and pooled.

Everything lands in ``out``; a rerun reuses every finished dataset, training and evaluation whose
configuration matches (a killed training resumes). Writes results.json, summary.md, report.html.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hivla.experiments.cross_embodiment.config import (
    COMPARISONS,
    DONE_FILE,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    CrossConfig,
)
from hivla.experiments.steps import paired_difference, paired_outcomes, read_json, run_once

Log = Callable[[str], None]


# ---- data ----------------------------------------------------------------------------------------
def data_root(cfg: CrossConfig, body: str) -> Path:
    return Path(cfg.out) / "data" / body


def ensure_dataset(cfg: CrossConfig, body: str, log: Log) -> dict[str, Any]:
    """``data/<body>``: reused when it holds enough episodes, else recorded (resumed)."""
    from hivla.data.recorder import CollectConfig, collect

    sizes, root = cfg.resolved, data_root(cfg, body)
    have = int((read_json(root / "meta" / "info.json") or {}).get("total_episodes", 0))
    if have >= sizes.episodes:
        log(f"data: {root} ({have} episodes, reused)")
        return {"path": str(root), "episodes": have}
    log(f"data: recording {sizes.episodes} {cfg.suite} episodes of {body} into {root}")
    ccfg = CollectConfig(
        out=root, suite=cfg.suite, embodiment=body, episodes=sizes.episodes, workers=cfg.collect_workers,
        image_size=sizes.image_size, max_steps=sizes.collect_max_steps, resume=root.exists(),
        backend=cfg.backend, address=cfg.address,
    )  # fmt: skip
    out = collect(ccfg)
    return {"path": str(root), "episodes": out["episodes"]}


# ---- trainings -----------------------------------------------------------------------------------
def trainings(cfg: CrossConfig) -> dict[str, tuple[str, ...]]:
    """Run name (``per-body/<body>``, ``joint``, ``held-out/<body>``) -> the bodies it trains on."""
    bodies, runs = cfg.bodies, {}
    if "per-body" in cfg.arms:
        runs |= {f"per-body/{b}": (b,) for b in bodies}
    if "joint" in cfg.arms:
        runs["joint"] = bodies
    runs |= {f"held-out/{b}": tuple(e for e in bodies if e != b) for b in cfg.held_out_bodies}
    return runs


def experiment_config(cfg: CrossConfig, paths: tuple[str, ...]) -> Any:
    """The VLA preset every arm trains: universal actions from the shared proprioception."""
    from hivla.configs.overrides import with_overrides

    sizes = cfg.resolved
    return with_overrides(sizes.vla_preset, data=",".join(paths), steps=sizes.steps, eval_every=0,
                          threads=cfg.threads, action_space="universal", proprio="shared")  # fmt: skip


def ensure_trained(cfg: CrossConfig, name: str, bodies: tuple[str, ...], log: Log) -> dict[str, Any]:
    """Train run ``name`` on ``bodies``' data into ``runs/<name>`` (reused, or resumed)."""
    from hivla.training import main as train

    sizes, run_dir = cfg.resolved, Path(cfg.out) / "runs" / name
    paths = tuple(str(data_root(cfg, b)) for b in bodies)
    exp = experiment_config(cfg, paths)
    key = {"preset": sizes.vla_preset, "steps": exp.train.steps, "data": list(paths), "proprio": "shared",
           "action_space": "universal"}  # fmt: skip

    def work(resume: bool) -> dict[str, Any]:
        r = train(exp, run_dir, resume=resume, quiet=True)
        return {"final_loss": r["final_loss"], "bodies": list(bodies)}

    return run_once(run_dir, key, f"training {name} on {', '.join(bodies)}", work, log, DONE_FILE)


# ---- evaluations ---------------------------------------------------------------------------------
def evaluations(cfg: CrossConfig) -> list[tuple[str, str, str]]:
    """(arm, evaluated body, training run name) of every cell of the table."""
    cells = []
    for body in cfg.bodies:
        if "per-body" in cfg.arms:
            cells.append(("per-body", body, f"per-body/{body}"))
        if "joint" in cfg.arms:
            cells.append(("joint", body, "joint"))
        if body in cfg.held_out_bodies:
            cells.append(("held-out", body, f"held-out/{body}"))
    return cells


def ensure_eval(cfg: CrossConfig, arm: str, body: str, run: str, log: Log) -> dict[str, Any]:
    """Held-out closed-loop episodes of ``run`` on ``body`` (``evals/<arm>/<body>``), the same seeds for every arm."""
    from hivla.evaluation import EvalConfig, evaluate_or_reuse

    sizes, where = cfg.resolved, Path(cfg.out) / "evals" / arm / body
    ecfg = EvalConfig(policy=run, suite=cfg.suite, embodiment=body, episodes=sizes.eval_episodes,
                      workers=cfg.workers, videos=0, max_steps=sizes.max_steps, image_size=sizes.image_size,
                      backend=cfg.backend, address=cfg.address)  # fmt: skip
    results, reused = evaluate_or_reuse(ecfg, where)
    o = results.metrics["overall"]
    log(f"eval {arm} on {body}: " + ("reused" if reused else f"{o['successes']}/{o['episodes']} successes"))
    outcomes = {str(r.seed): int(bool(r.success)) for r in results.episodes}
    by_kind = {k: {"successes": int(b["successes"]), "episodes": int(b["episodes"])}
               for k, b in results.metrics["by_task"].items()}  # fmt: skip
    return {**o, "seeds": [int(r.seed) for r in results.episodes], "outcomes": outcomes, "by_kind": by_kind}


def paired_differences(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each comparison of ``COMPARISONS`` (arm minus arm) per body both arms ran on and pooled over
    those bodies, on the seeds both ran, with a paired bootstrap interval
    (``experiments.steps.paired_difference``): ``"<a> - <b>"`` -> body or ``pooled`` ->
    ``{"difference", "ci95", "paired_seeds"}``."""
    out: dict[str, dict[str, Any]] = {}
    for a, b in COMPARISONS:
        rows: dict[str, Any] = {}
        pooled_a: list[int] = []
        pooled_b: list[int] = []
        for body, arms in table.items():
            if a not in arms or b not in arms:
                continue
            xs, ys = paired_outcomes(arms[a]["outcomes"], arms[b]["outcomes"])
            rows[body] = paired_difference(xs, ys)
            pooled_a += xs
            pooled_b += ys
        if rows:
            rows["pooled"] = paired_difference(pooled_a, pooled_b)
            out[f"{a} - {b}"] = rows
    return out


# ---- the experiment ------------------------------------------------------------------------------
def run_experiment(cfg: CrossConfig, log: Log = print) -> dict[str, Any]:
    """Record, train and evaluate every arm; write results.json, summary.md and report.html."""
    import torch

    from hivla.experiments.cross_embodiment.report import write_outputs

    torch.set_num_threads(max(1, cfg.threads))
    start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = {b: ensure_dataset(cfg, b, log) for b in cfg.bodies}
    runs = {name: ensure_trained(cfg, name, bodies, log) for name, bodies in trainings(cfg).items()}
    table: dict[str, dict[str, Any]] = {}
    for arm, body, name in evaluations(cfg):
        block = ensure_eval(cfg, arm, body, runs[name]["run"], log)
        table.setdefault(body, {})[arm] = {**block, "run": name}
    results = {
        "format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": _config_dict(cfg), "data": data,
        "runs": runs, "table": table, "differences": paired_differences(table),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    write_outputs(results, out)
    return results


def _config_dict(cfg: CrossConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["sizes"], d["embodiments"] = dataclasses.asdict(cfg.resolved), list(cfg.bodies)
    d["held_out"] = list(cfg.held_out_bodies)
    return json.loads(json.dumps(d))  # tuples -> lists
