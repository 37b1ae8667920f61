"""Evaluate a policy with and without the world-model veto, counting safety violations.

The policy is any spec ``hivla eval --policy`` takes whose chunks change when asked again (a
trained VLA with a flow or diffusion head, alone or as a hierarchical policy's low level), or
``faulty-expert``, the scripted expert with injected faults; a deterministic policy (an l1, bins or
fast head, the scripted expert) is refused, since the veto's resampling would get the same chunk back.

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

from hivla.world_model.config import FAULTY_EXPERT
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
    """Episodes of ``policy`` under each shift condition, with and without the veto (same seeds).
    ``policy`` is a policy spec or ``faulty-expert`` (then ``fault_rate`` applies)."""

    policy: str = FAULTY_EXPERT
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
        if not self.policy:
            raise ValueError(f"policy must name a policy spec or {FAULTY_EXPERT!r}")
        check_episode_grid(self.suite, self.conditions, self.backend, self.address)
        if self.episodes < 1 or self.workers < 1:
            raise ValueError(f"episodes and workers must be >= 1, got {self.episodes}, {self.workers}")


def check_episode_grid(suite: str, conditions: tuple[str, ...], backend: str, address: str | None) -> None:
    """Check what an evaluation over (condition, seed) names: its suite, its shift conditions
    (``none`` or ``axis=level[+axis=level]``) and where its episodes run."""
    from hivla.sim import SUITES, parse_shifts
    from hivla.utils.pool import check_backend

    check_backend(backend, address)
    SUITES.get(suite)
    for c in conditions:
        if c != "none":
            parse_shifts(c.split("+"))


def condition_shifts(label: str) -> dict[str, int]:
    from hivla.sim import parse_shifts

    return {} if label == "none" else parse_shifts(label.split("+"))


class _VetoWorker:
    """Per process: the world model, one env per condition, both arms' policies."""

    def __init__(self, model_path: str, cfg: VetoEvalConfig) -> None:
        from hivla.utils.threads import limit_threads
        from hivla.world_model.checkpoint import load_world_model
        from hivla.world_model.sources import make_policy

        limit_threads(1)
        self.cfg = cfg
        self.model = load_world_model(model_path)
        self.envs: dict[str, TrackedEnv] = {}
        self.base = make_policy(cfg.policy, cfg.fault_rate, cfg.embodiment)

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
        from hivla.world_model.safety import WorldModelVeto

        label, arm, seed = item
        env = self._env(label)
        base = self.base
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
            "interventions": interventions, "faults": dict(getattr(base, "faults", {})),
        }  # fmt: skip

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def check_veto_policy(cfg: VetoEvalConfig) -> str:
    """Why resampling can change ``cfg.policy``'s chunks; ``DeterministicPolicyError`` if it cannot."""
    from hivla.world_model.safety import DeterministicPolicyError, require_stochastic
    from hivla.world_model.sources import make_policy

    try:
        return require_stochastic(
            make_policy(cfg.policy, cfg.fault_rate, cfg.embodiment), f"policy {cfg.policy!r}"
        )
    except DeterministicPolicyError as err:
        raise DeterministicPolicyError(
            f"{err}. In `hivla experiment world-model`: pass such a run as --veto-policy, or --no-veto to "
            "measure only the correlation and the replanning"
        ) from None


def run_veto_eval(
    model_path: str, cfg: VetoEvalConfig, progress: Any = None, cache_dir: Any = None
) -> dict[str, Any]:
    """Both arms on every (condition, seed); returns the per-episode rows and the summary. With
    ``cache_dir``, finished episodes are kept there and reused by a rerun with the same config."""
    from hivla.evaluation.config import suite_seeds
    from hivla.experiments.world_model_validation.cache import RowCache
    from hivla.utils.pool import run_pool

    sampling = check_veto_policy(cfg)
    seeds = suite_seeds(cfg.suite, "heldout", cfg.first_seed_index, cfg.episodes)
    items = [(c, arm, s) for c in cfg.conditions for s in seeds for arm in ARMS]
    cache = None
    done: dict[Any, dict[str, Any]] = {}
    if cache_dir is not None:
        key = {
            **asdict(cfg),
            "workers": None,
            "backend": None,
            "address": None,
            "world_model": str(model_path),
        }
        cache = RowCache(cache_dir, "veto", key)
        done = cache.load()
    rows = [done[i] for i in items if i in done]
    todo = [i for i in items if i not in done]
    for row in (
        run_pool(partial(_VetoWorker, str(model_path), cfg), todo, cfg.workers, cfg.backend, cfg.address)
        if todo
        else []
    ):
        rows.append(row)
        if cache is not None:
            cache.add(row)
        if progress is not None:
            progress(row)
    rows.sort(key=lambda r: (cfg.conditions.index(r["condition"]), r["seed"], ARMS.index(r["arm"])))
    config = asdict(cfg)
    return {
        "config": config, "resampling": sampling, "episodes": rows, "reused": len(items) - len(todo),
        "summary": summarize_veto(rows, cfg.conditions),
    }  # fmt: skip


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
