"""World-model-triggered replanning, closed loop: a hierarchical policy with and without the trigger.

Both arms are the same ``hierarchical:...`` spec, one with ``wm=`` the experiment's world model
(:mod:`hivla.planning.wm_trigger`: retry or replan the current subtask when the world model
predicts that it fails) and one without; they run on the same held-out seeds under each shift
condition through the evaluation harness's action stack and episode loop. Per arm: success and
average progress with intervals, the trigger's firings and the replans per episode; per condition,
the paired differences (trigger - no trigger) with bootstrap intervals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

ARMS = ("hierarchical", "hierarchical+wm-replan")


@dataclass(frozen=True)
class ReplanEvalConfig:
    """``policy``: a ``hierarchical:...`` spec (empty: this part is skipped); its ``wm`` key, if any,
    is replaced by the experiment's world model in the trigger arm and removed in the other."""

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
    image_size: int = 64
    first_seed_index: int = 0
    workers: int = 1
    backend: str = "local"  # where the episodes run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.sim import EMBODIMENTS, SUITES, parse_shifts
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)

        if self.policy:
            from hivla.planning.spec import HierarchicalSpec

            HierarchicalSpec.parse(self.policy)
        SUITES.get(self.suite)
        EMBODIMENTS.get(self.embodiment)
        for c in self.conditions:
            if c != "none":
                parse_shifts(c.split("+"))
        if self.episodes < 1 or self.workers < 1 or self.patience < 1:
            raise ValueError(
                f"episodes, workers and patience must be >= 1, got {self.episodes}, {self.workers}, {self.patience}"
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
    """Per process: both arms' policies (built once) and one env per condition."""

    def __init__(self, model_path: str, cfg: ReplanEvalConfig) -> None:
        from hivla.utils.threads import limit_threads

        limit_threads(1)
        self.cfg = cfg
        self.policies = {arm: arm_spec(cfg, arm, model_path).build(name=arm) for arm in ARMS}
        self.envs: dict[str, Any] = {}

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
        env, policy = self._env(label), self.policies[arm]
        agent = Agent(policy, env, Execution(execute_steps=policy.execute_steps))
        record, _ = run_episode(env, agent, seed, label)
        events = [e for e, _ in policy.history]
        return {
            "condition": label, "arm": arm, "seed": int(seed), "success": bool(record.success),
            "progress": float(record.progress), "completed": int(record.completed),
            "chain_length": int(record.chain_length), "steps": int(record.steps), "failure": record.failure,
            "wm_triggers": events.count("wm_predicted_failure"), "subtask_failures": events.count("failed"),
            "replans": int(policy.replans),
        }  # fmt: skip

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def run_replan_eval(
    model_path: str, cfg: ReplanEvalConfig, progress: Any = None, cache_dir: Any = None
) -> dict[str, Any]:
    """Both arms on every (condition, seed): rows and summary; finished rows reused from ``cache_dir``."""
    from hivla.evaluation.config import suite_seeds
    from hivla.experiments.world_model_validation.cache import RowCache
    from hivla.utils.pool import run_pool

    if not cfg.policy:
        raise ValueError(
            "the replanning evaluation needs a hierarchical:... policy spec (ReplanEvalConfig.policy)"
        )
    seeds = suite_seeds(cfg.suite, "heldout", cfg.first_seed_index, cfg.episodes)
    items = [(c, arm, s) for c in cfg.conditions for s in seeds for arm in ARMS]
    cache, done = None, {}
    if cache_dir is not None:
        cache = RowCache(
            cache_dir,
            "replan",
            {
                **asdict(cfg),
                "workers": None,
                "backend": None,
                "address": None,
                "world_model": str(model_path),
            },
        )
        done = cache.load()
    rows = [done[i] for i in items if i in done]
    todo = [i for i in items if i not in done]
    for row in (
        run_pool(partial(_ReplanWorker, str(model_path), cfg), todo, cfg.workers, cfg.backend, cfg.address)
        if todo
        else []
    ):
        rows.append(row)
        if cache is not None:
            cache.add(row)
        if progress is not None:
            progress(row)
    rows.sort(key=lambda r: (cfg.conditions.index(r["condition"]), r["seed"], ARMS.index(r["arm"])))
    return {
        "config": asdict(cfg), "arms": {a: arm_spec(cfg, a, model_path).to_string() for a in ARMS}, "episodes": rows,
        "reused": len(items) - len(todo), "summary": summarize_replan(rows, cfg.conditions),
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
