"""The sensing experiment (``hivla experiment sensing``): does reading depth (and touch) make a policy
more robust to lighting, texture and camera shifts than reading RGB alone?

1. Data: one set of expert episodes recorded with every arm's sensors (``data``; depth as uint16
   millimetres per camera, contact readings), so every arm trains on the same episodes.
2. Training: one policy per arm (``arms/<arm>``), the same preset and steps, differing only in the
   sensors it reads (``hivla train --sensors``, ``--depth-encoder``).
3. Evaluation: every policy on the same held-out seeds, in distribution and under each shift
   (``evals/<arm>``): success with Wilson 95% intervals, and the ratio to in distribution with a
   paired bootstrap over seeds (``hivla.evaluation.metrics.robustness``).

Everything lands in ``out``; a rerun reuses the finished dataset, trainings and evaluations whose
configuration matches (a killed training resumes). Writes results.json, summary.md, report.html.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hivla.experiments.sensing.config import ARMS, DONE_FILE, RESULTS_FORMAT, RESULTS_VERSION, SensingConfig
from hivla.experiments.steps import (
    OutputMismatchError,
    paired_difference,
    paired_outcomes,
    read_json,
    run_once,
)

Log = Callable[[str], None]


def data_root(cfg: SensingConfig) -> Path:
    return Path(cfg.out) / "data"


def dataset_sensors(info: dict[str, Any]) -> tuple[str, ...]:
    """The sensors a dataset's ``meta/info.json`` records (``depth``, ``contact``)."""
    from hivla.data import format as fmt

    features = info.get("features", {})
    depth = any(k.startswith(fmt.DEPTH_PREFIX) for k in features)
    return tuple(s for s, has in (("depth", depth), ("contact", fmt.CONTACT in features)) if has)


def ensure_dataset(cfg: SensingConfig, log: Log) -> dict[str, Any]:
    """``data``: reused when it holds enough episodes with the sensors every arm reads, else recorded
    (or resumed). A dataset recorded without a sensor an arm needs is refused, naming it."""
    from hivla.data.recorder import CollectConfig, collect

    sizes, root = cfg.resolved, data_root(cfg)
    info = read_json(root / "meta" / "info.json") or {}
    have, sensors = int(info.get("total_episodes", 0)), cfg.recorded_sensors
    if info and not set(sensors) <= set(dataset_sensors(info)):
        raise OutputMismatchError(
            f"{root} records sensors {list(dataset_sensors(info))}, the arms {list(cfg.arms)} need {list(sensors)}: "
            f"choose a new --out, or delete {root} to record it again"
        )
    if have >= sizes.episodes:
        log(f"data: {root} ({have} episodes, reused)")
        return {"path": str(root), "episodes": have, "sensors": list(sensors)}
    log(f"data: recording {sizes.episodes} {cfg.suite} episodes of {cfg.embodiment} with sensors "
        f"{','.join(sensors) or 'none'} into {root}")  # fmt: skip
    ccfg = CollectConfig(
        out=root, suite=cfg.suite, embodiment=cfg.embodiment, episodes=sizes.episodes, workers=cfg.collect_workers,
        image_size=sizes.image_size, max_steps=sizes.collect_max_steps, resume=root.exists(), sensors=sensors,
        backend=cfg.backend, address=cfg.address,
    )  # fmt: skip
    out = collect(ccfg)
    return {"path": str(root), "episodes": out["episodes"], "sensors": list(sensors)}


def train_overrides(cfg: SensingConfig, arm: str) -> dict[str, Any]:
    """``with_overrides`` arguments of ``arm``'s training: the shared preset, data and steps, its sensors."""
    spec, sizes = ARMS.get(arm), cfg.resolved
    return {"data": str(data_root(cfg)), "steps": sizes.steps, "eval_every": 0, "threads": cfg.threads,
            "sensors": ",".join(spec.sensors), "depth_encoder": spec.depth_encoder}  # fmt: skip


def ensure_trained(cfg: SensingConfig, arm: str, log: Log) -> dict[str, Any]:
    """The policy of ``arm`` trained into ``arms/<arm>`` (reused when finished with the same settings)."""
    from hivla.configs.overrides import with_overrides
    from hivla.training import main as train

    run_dir = Path(cfg.out) / "arms" / arm
    overrides = train_overrides(cfg, arm)
    exp = with_overrides(cfg.resolved.vla_preset, **overrides)
    key = {"preset": cfg.resolved.vla_preset, **{k: v for k, v in overrides.items() if k != "threads"},
           "steps": exp.train.steps}  # fmt: skip

    def work(resume: bool) -> dict[str, Any]:
        r = train(exp, run_dir, resume=resume, quiet=True)
        return {"final_loss": r["final_loss"], "step": r.get("step")}

    return run_once(run_dir, key, f"train {arm}", work, log, DONE_FILE)


def ensure_eval(cfg: SensingConfig, arm: str, run: str, log: Log) -> dict[str, Any]:
    """``arm``'s policy on the held-out seeds in distribution and under each shift (``evals/<arm>``):
    the outcome per condition and the robustness ratios."""
    from hivla.evaluation import EvalConfig, evaluate_or_reuse

    sizes, where = cfg.resolved, Path(cfg.out) / "evals" / arm
    ecfg = EvalConfig(policy=run, suite=cfg.suite, embodiment=cfg.embodiment, episodes=sizes.eval_episodes,
                      shifts=tuple(cfg.shifts), workers=cfg.workers, videos=0, max_steps=sizes.max_steps,
                      backend=cfg.backend, address=cfg.address)  # fmt: skip
    results, reused = evaluate_or_reuse(ecfg, where)
    by_shift = results.metrics["by_shift"]
    if reused:
        log(f"eval {arm}: reused")
    else:
        log(f"eval {arm}: " + ", ".join(f"{c} {b['successes']}/{b['episodes']}" for c, b in by_shift.items()))
    outcomes: dict[str, dict[str, int]] = {c: {} for c in by_shift}
    for r in results.episodes:
        outcomes[r.condition][str(r.seed)] = int(bool(r.success))
    return {"conditions": by_shift, "robustness": results.metrics["robustness"], "outcomes": outcomes,
            "dir": str(where), "wall_seconds": results.info.get("wall_seconds")}  # fmt: skip


def versus_reference(arms: dict[str, Any], reference: str) -> dict[str, Any]:
    """Each other arm's success minus ``reference``'s, per condition, on the seeds both ran, with a
    paired bootstrap interval (``experiments.steps.paired_difference``): arm -> condition ->
    ``{"difference", "ci95", "paired_seeds"}``."""
    base = arms[reference]["outcomes"]
    return {
        arm: {
            cond: paired_difference(*paired_outcomes(mine, base.get(cond, {})))
            for cond, mine in a["outcomes"].items()
        }
        for arm, a in arms.items()
        if arm != reference
    }


def run_experiment(cfg: SensingConfig, log: Log = print) -> dict[str, Any]:
    """Record, train and evaluate every arm; write results.json, summary.md and report.html."""
    import torch

    from hivla.experiments.sensing.report import write_outputs

    torch.set_num_threads(max(1, cfg.threads))
    start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = ensure_dataset(cfg, log)
    arms: dict[str, Any] = {}
    for arm in cfg.arms:
        trained = ensure_trained(cfg, arm, log)
        arms[arm] = {
            "label": ARMS.get(arm).label,
            "train": trained,
            **ensure_eval(cfg, arm, trained["run"], log),
        }
    results = {
        "format": RESULTS_FORMAT, "version": RESULTS_VERSION, "config": _config_dict(cfg), "data": data,
        "conditions": ["none", *cfg.shifts], "arms": arms, "reference": cfg.arms[0],
        "versus_reference": versus_reference(arms, cfg.arms[0]), "wall_seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    write_outputs(results, out)
    return results


def _config_dict(cfg: SensingConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["sizes"] = dataclasses.asdict(cfg.resolved)
    return json.loads(json.dumps(d))  # tuples -> lists
