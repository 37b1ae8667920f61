"""World-model-triggered replanning, closed loop: a hierarchical policy with and without the trigger.

Both arms are the same ``hierarchical:...`` spec, one with ``wm=`` the experiment's world model
(:mod:`hivla.planning.wm_trigger`: retry or replan the current subtask when the world model
predicts that it fails) and one without; they run on the same held-out seeds under each shift
condition through the evaluation harness's action stack and episode loop. Per arm: success and
average progress with intervals, the trigger's firings and the replans per episode; per condition,
the paired differences (trigger - no trigger) with bootstrap intervals.

With ``calibration_episodes``, the trigger's threshold is chosen first, on other held-out seeds in
distribution: the trigger-arm policy runs with a trigger that only records its predictions
(:class:`hivla.planning.wm_trigger.RecordingReplanTrigger`), and the threshold that best separates
the subtask attempts that failed from those that succeeded is used
(:func:`hivla.planning.wm_trigger.calibrate_threshold`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

ARMS = ("hierarchical", "hierarchical+wm-replan")
CALIBRATION = "calibration"  # the trigger arm with a recording trigger, on the calibration seeds


@dataclass(frozen=True)
class ReplanEvalConfig:
    """``policy``: a ``hierarchical:...`` spec (empty: this part is skipped); its ``wm`` key, if any,
    is replaced by the experiment's world model in the trigger arm and removed in the other.
    ``calibration_episodes``: in-distribution held-out episodes after the evaluated seeds on which
    ``threshold`` is chosen (0: ``threshold`` as given)."""

    policy: str = ""
    suite: str = "tabletop-chain-2"
    embodiment: str = "floating"
    episodes: int = 20
    conditions: tuple[str, ...] = (
        "none",
        "lighting=2",
        "table=2",
        "camera=2",
        "object_colour=2",
        "placement=2",
    )
    threshold: float = 0.2
    patience: int = 2
    calibration_episodes: int = 0
    image_size: int = 64
    first_seed_index: int = 0
    workers: int = 1
    backend: str = "local"  # where the episodes run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.experiments.world_model_validation.veto import check_episode_grid
        from hivla.sim import EMBODIMENTS

        check_episode_grid(self.suite, self.conditions, self.backend, self.address)
        if self.policy:
            from hivla.planning.spec import HierarchicalSpec

            HierarchicalSpec.parse(self.policy)
        EMBODIMENTS.get(self.embodiment)
        if self.episodes < 1 or self.workers < 1 or self.patience < 1 or self.calibration_episodes < 0:
            raise ValueError(
                "episodes, workers and patience must be >= 1 and calibration_episodes >= 0, got "
                f"{self.episodes}, {self.workers}, {self.patience}, {self.calibration_episodes}"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be within (0, 1), got {self.threshold}")


def arm_spec(cfg: ReplanEvalConfig, arm: str, model_path: str) -> Any:
    """The :class:`~hivla.planning.spec.HierarchicalSpec` of ``arm``."""
    from hivla.planning.spec import HierarchicalSpec

    base = HierarchicalSpec.parse(cfg.policy)
    if arm == ARMS[0]:
        return dataclasses.replace(base, wm="")
    return dataclasses.replace(base, wm=str(model_path), wm_threshold=cfg.threshold, wm_patience=cfg.patience)


class _ReplanWorker:
    """Per process: the arms' policies (each built when first needed) and one env per condition."""

    def __init__(self, model_path: str, cfg: ReplanEvalConfig) -> None:
        from hivla.utils.threads import limit_threads

        limit_threads(1)
        self.model_path, self.cfg = model_path, cfg
        self.policies: dict[str, Any] = {}
        self.envs: dict[str, Any] = {}

    def _policy(self, arm: str) -> Any:
        if arm not in self.policies:
            if arm == CALIBRATION:
                from hivla.planning.wm_trigger import RecordingReplanTrigger

                policy = arm_spec(self.cfg, ARMS[1], self.model_path).build(name=arm)
                policy.trigger = RecordingReplanTrigger(policy.trigger.model, policy.trigger.config, policy)
            else:
                policy = arm_spec(self.cfg, arm, self.model_path).build(name=arm)
            self.policies[arm] = policy
        return self.policies[arm]

    def _env(self, label: str) -> Any:
        if label not in self.envs:
            from hivla.experiments.world_model_validation.veto import condition_shifts
            from hivla.sim import make_env

            self.envs[label] = make_env(
                self.cfg.suite,
                self.cfg.embodiment,
                image_size=self.cfg.image_size,
                shifts=condition_shifts(label),
            )
        return self.envs[label]

    def __call__(self, item: tuple[str, str, int]) -> dict[str, Any]:
        from hivla.evaluation.agent import Agent, Execution
        from hivla.evaluation.runner import run_episode

        label, arm, seed = item
        env, policy = self._env(label), self._policy(arm)
        agent = Agent(policy, env, Execution(execute_steps=policy.execute_steps))
        record, _ = run_episode(env, agent, seed, label)
        events = [e for e, _ in policy.history]
        row = {
            "condition": label, "arm": arm, "seed": int(seed), "success": bool(record.success),
            "progress": float(record.progress), "completed": int(record.completed),
            "chain_length": int(record.chain_length), "steps": int(record.steps), "failure": record.failure,
            "wm_triggers": events.count("wm_predicted_failure"), "subtask_failures": events.count("failed"),
            "replans": int(policy.replans),
        }  # fmt: skip
        if arm == CALIBRATION:
            from hivla.planning.wm_trigger import attempt_predictions

            attempts = attempt_predictions(policy.trigger.records, policy.history, record.success)
            row["attempts"] = [{"predictions": p, "failed": f} for p, f in attempts]
        return row

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def _cache_key(cfg: ReplanEvalConfig, arm: str, model_path: str) -> dict[str, Any]:
    """What an arm's rows depend on: the no-trigger arm not on the world model or its threshold."""
    from hivla.experiments.world_model_validation.cache import what_made

    key = what_made(asdict(cfg))
    for name in ("threshold", "patience", "calibration_episodes"):
        key.pop(name)
    if arm == ARMS[0]:
        return key
    key.update(patience=cfg.patience, world_model=str(model_path))
    return key if arm == CALIBRATION else {**key, "threshold": cfg.threshold}


def _run_arm(
    model_path: str, cfg: ReplanEvalConfig, arm: str, labels_seeds: list[tuple[str, int]],
    progress: Any, cache_dir: Any,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The rows of ``arm`` on every (condition, seed), finished ones reused; and how many were."""
    from hivla.experiments.world_model_validation.cache import RowCache
    from hivla.utils.pool import run_pool

    items = [(label, arm, seed) for label, seed in labels_seeds]
    cache = (
        None if cache_dir is None else RowCache(cache_dir, f"replan-{arm}", _cache_key(cfg, arm, model_path))
    )
    done = {} if cache is None else cache.load()
    rows = [done[i] for i in items if i in done]
    todo = [i for i in items if i not in done]
    worker = partial(_ReplanWorker, str(model_path), cfg)
    for row in run_pool(worker, todo, cfg.workers, cfg.backend, cfg.address) if todo else []:
        rows.append(row)
        if cache is not None:
            cache.add(row)
        if progress is not None:
            progress(row)
    return rows, len(items) - len(todo)


def calibrate(
    model_path: str, cfg: ReplanEvalConfig, progress: Any = None, cache_dir: Any = None
) -> dict[str, Any]:
    """The trigger's threshold chosen on ``cfg.calibration_episodes`` in-distribution held-out
    episodes after the evaluated ones (:func:`hivla.planning.wm_trigger.calibrate_threshold`);
    ``threshold`` None, with ``error``, when the attempts all failed or all succeeded."""
    from hivla.evaluation.config import suite_seeds
    from hivla.planning.wm_trigger import calibrate_threshold

    first = cfg.first_seed_index + cfg.episodes
    seeds = suite_seeds(cfg.suite, "heldout", first, cfg.calibration_episodes)
    rows, reused = _run_arm(model_path, cfg, CALIBRATION, [("none", s) for s in seeds], progress, cache_dir)
    attempts = [(a["predictions"], a["failed"]) for r in rows for a in r["attempts"]]
    out = {
        "episodes": len(rows), "seeds": [int(seeds[0]), int(seeds[-1])], "reused": reused,
        "success": sum(r["success"] for r in rows) / len(rows),
    }  # fmt: skip
    try:
        return {**out, **calibrate_threshold(attempts, cfg.patience)}
    except ValueError as err:  # one class only: keep the given threshold and say why
        failed = sum(f for _, f in attempts)
        return {
            **out,
            "threshold": None,
            "attempts": len(attempts),
            "failed_attempts": failed,
            "error": str(err),
        }


def run_replan_eval(
    model_path: str, cfg: ReplanEvalConfig, progress: Any = None, cache_dir: Any = None
) -> dict[str, Any]:
    """Both arms on every (condition, seed): rows and summary; finished rows reused from ``cache_dir``.
    With ``cfg.calibration_episodes`` the threshold is calibrated first (``calibration`` in the result)."""
    from hivla.evaluation.config import suite_seeds

    if not cfg.policy:
        raise ValueError(
            "the replanning evaluation needs a hierarchical:... policy spec (ReplanEvalConfig.policy)"
        )
    calibration = None
    if cfg.calibration_episodes:
        calibration = calibrate(model_path, cfg, progress, cache_dir)
        if calibration["threshold"] is not None:
            cfg = dataclasses.replace(cfg, threshold=calibration["threshold"])
    seeds = suite_seeds(cfg.suite, "heldout", cfg.first_seed_index, cfg.episodes)
    labels_seeds = [(c, s) for c in cfg.conditions for s in seeds]
    rows, reused = [], 0
    for arm in ARMS:
        arm_rows, arm_reused = _run_arm(model_path, cfg, arm, labels_seeds, progress, cache_dir)
        rows, reused = rows + arm_rows, reused + arm_reused
    rows.sort(key=lambda r: (cfg.conditions.index(r["condition"]), r["seed"], ARMS.index(r["arm"])))
    return {
        "config": asdict(cfg), "arms": {a: arm_spec(cfg, a, model_path).to_string() for a in ARMS}, "episodes": rows,
        "reused": reused, "calibration": calibration, "summary": summarize_replan(rows, cfg.conditions),
    }  # fmt: skip


def _block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from hivla.evaluation.stats import mean_ci, rate

    return {
        "episodes": len(rows),
        "success": rate(sum(r["success"] for r in rows), len(rows)),
        "progress": mean_ci([r["progress"] for r in rows]),
        "wm_triggers_per_episode": mean_ci([r["wm_triggers"] for r in rows]),
        "replans_per_episode": mean_ci([r["replans"] for r in rows]),
    }


def summarize_replan(rows: list[dict[str, Any]], conditions: tuple[str, ...]) -> dict[str, Any]:
    """Per condition and over all conditions: both arms, and the paired differences."""
    from hivla.experiments.world_model_validation.veto import paired_difference

    groups = {c: [r for r in rows if r["condition"] == c] for c in conditions}
    if len(conditions) > 1:
        groups["all conditions"] = list(rows)
    out: dict[str, Any] = {}
    for name, group in groups.items():
        by_arm = {
            arm: sorted((r for r in group if r["arm"] == arm), key=lambda r: (r["condition"], r["seed"]))
            for arm in ARMS
        }
        off, on = by_arm[ARMS[0]], by_arm[ARMS[1]]
        out[name] = {
            **{arm: _block(by_arm[arm]) for arm in ARMS},
            "delta_success": paired_difference(
                [float(r["success"]) for r in off], [float(r["success"]) for r in on]
            ),
            "delta_progress": paired_difference([r["progress"] for r in off], [r["progress"] for r in on]),
        }
    return out
