"""Evaluate a policy with and without the world-model veto, counting safety violations.

Each episode runs through the evaluation harness's action stack (``hivla.evaluation.agent.Agent``:
chunk broker, universal/native conversion, the safety filter) and its episode loop
(``hivla.evaluation.runner.run_episode``), on an env wrapped by :class:`TrackedEnv`, which labels
every executed step with :func:`hivla.world_model.events.step_events`. Both arms use the same
seeds and shift conditions; the veto arm's ``wm_*`` counts are merged into each record's
``interventions``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from hivla.world_model.events import VIOLATIONS, EventTracker
from hivla.world_model.safety import VETO_KINDS, VetoConfig

ARMS = ("policy", "policy+veto")


class TrackedEnv:
    """An env proxy that counts events of every executed step (``tracker.counts``).

    Policies that simulate ahead use ``unwrapped`` (the real env), so their look-ahead steps are
    not counted.
    """

    def __init__(self, env: Any) -> None:
        self._env = env
        self.tracker = EventTracker()

    @property
    def unwrapped(self) -> Any:
        return self._env

    def reset(self, **kwargs: Any):
        out = self._env.reset(**kwargs)
        self.tracker.start(self._env)
        return out

    def step(self, action: Any):
        out = self._env.step(action)
        self.tracker.step(self._env)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


@dataclass(frozen=True)
class VetoEvalConfig:
    """Episodes of the fault-injecting expert under each shift condition, with and without the veto."""

    suite: str = "tabletop-chain-2"
    embodiment: str = "floating"
    episodes: int = 20
    conditions: tuple[str, ...] = (
        "none",
        "lighting=2",
        "table=2",
        "camera=2",
        "distractors=2",
        "placement=2",
    )
    fault_rate: float = 0.3
    image_size: int = 64
    first_seed_index: int = 0
    workers: int = 1
    veto: VetoConfig = field(default_factory=VetoConfig)
    backend: str = "local"  # where the episodes run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.sim import SUITES, parse_shifts
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        SUITES.get(self.suite)
        for c in self.conditions:
            if c != "none":
                parse_shifts(c.split("+"))
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes}, {self.workers}")


def condition_shifts(label: str) -> dict[str, int]:
    from hivla.sim import parse_shifts

    return {} if label == "none" else parse_shifts(label.split("+"))


class _VetoWorker:
    """Per process: the world model, one env per condition, both arms' policies."""

    def __init__(self, model_path: str, cfg: VetoEvalConfig) -> None:
        from hivla.utils.threads import limit_threads
        from hivla.world_model.checkpoint import load_world_model

        limit_threads(1)
        self.cfg = cfg
        self.model = load_world_model(model_path)
        self.envs: dict[str, TrackedEnv] = {}

    def _env(self, label: str) -> TrackedEnv:
        if label not in self.envs:
            from hivla.sim import make_env

            raw = make_env(
                self.cfg.suite,
                self.cfg.embodiment,
                image_size=self.cfg.image_size,
                shifts=condition_shifts(label),
            )
            self.envs[label] = TrackedEnv(raw)
        return self.envs[label]

    def __call__(self, item: tuple[str, str, int]) -> dict[str, Any]:
        from hivla.evaluation.agent import Agent, Execution
        from hivla.evaluation.runner import run_episode
        from hivla.policies import as_rollout_policy
        from hivla.world_model.faults import FaultConfig, FaultyExpert
        from hivla.world_model.safety import WorldModelVeto

        label, arm, seed = item
        env = self._env(label)
        base = FaultyExpert(FaultConfig(fault_rate=self.cfg.fault_rate))
        policy = WorldModelVeto(base, self.model, self.cfg.veto) if arm == "policy+veto" else base
        agent = Agent(as_rollout_policy(policy, name=arm), env, Execution(execute_steps=base.execute_steps))
        record, _ = run_episode(env, agent, seed, label)
        counts = dict(env.tracker.counts)
        interventions = dict(record.interventions)
        if arm == "policy+veto":
            interventions.update(policy.interventions)
        return {
            "condition": label, "arm": arm, "seed": int(seed), "success": bool(record.success),
            "progress": float(record.progress), "steps": int(record.steps), "failure": record.failure,
            "events": counts, "violations": int(env.tracker.violation_steps),
            "interventions": interventions, "faults": dict(base.faults),
        }  # fmt: skip

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def run_veto_eval(model_path: str, cfg: VetoEvalConfig, progress: Any = None) -> dict[str, Any]:
    """Both arms on every (condition, seed); returns the per-episode rows and the summary."""
    from hivla.evaluation.config import suite_seeds
    from hivla.utils.pool import run_pool

    seeds = suite_seeds(cfg.suite, "heldout", cfg.first_seed_index, cfg.episodes)
    items = [(c, arm, s) for c in cfg.conditions for s in seeds for arm in ARMS]
    rows = []
    for row in run_pool(
        partial(_VetoWorker, str(model_path), cfg), items, cfg.workers, cfg.backend, cfg.address
    ):
        rows.append(row)
        if progress is not None:
            progress(row)
    rows.sort(key=lambda r: (cfg.conditions.index(r["condition"]), r["seed"], ARMS.index(r["arm"])))
    config = asdict(cfg)
    return {"config": config, "episodes": rows, "summary": summarize_veto(rows, cfg.conditions)}


def _block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from hivla.evaluation.stats import mean_ci, rate

    viol = [r["violations"] for r in rows]
    return {
        "episodes": len(rows),
        "success": rate(sum(r["success"] for r in rows), len(rows)),
        "any_violation": rate(sum(v > 0 for v in viol), len(rows)),
        "violations_per_episode": mean_ci(viol),
        "by_event": {k: mean_ci([r["events"][k] for r in rows]) for k in VIOLATIONS},
        "veto": {k: int(sum(r["interventions"].get(k, 0) for r in rows)) for k in VETO_KINDS},
    }


def paired_difference(a: list[float], b: list[float], n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean of b - a over paired episodes with a percentile bootstrap 95% interval."""
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    rng = np.random.default_rng(seed)
    boots = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(n_boot)] if len(d) else [0.0]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"mean": float(d.mean()) if len(d) else 0.0, "ci95": [float(lo), float(hi)], "n": int(len(d))}


def summarize_veto(rows: list[dict[str, Any]], conditions: tuple[str, ...]) -> dict[str, Any]:
    """Per condition and overall (all shifted conditions pooled): both arms, and paired differences."""
    out: dict[str, Any] = {}
    groups = {c: [r for r in rows if r["condition"] == c] for c in conditions}
    shifted = [r for r in rows if r["condition"] != "none"]
    if shifted and len(conditions) > 1:
        groups["all shifts"] = shifted
    for name, group in groups.items():
        by_arm = {
            arm: sorted((r for r in group if r["arm"] == arm), key=lambda r: (r["condition"], r["seed"]))
            for arm in ARMS
        }
        base, veto = by_arm[ARMS[0]], by_arm[ARMS[1]]
        out[name] = {
            **{arm: _block(by_arm[arm]) for arm in ARMS},
            "delta_violations": paired_difference(
                [r["violations"] for r in base], [r["violations"] for r in veto]
            ),
            "delta_any_violation": paired_difference(
                [float(r["violations"] > 0) for r in base], [float(r["violations"] > 0) for r in veto]
            ),
            "delta_success": paired_difference(
                [float(r["success"]) for r in base], [float(r["success"]) for r in veto]
            ),
        }
    return out
