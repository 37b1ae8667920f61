"""The probe around a policy: logs at each query the plan and trace the policy used beside the
oracle's, and builds the oracle-substituted variants of a policy.

``ProbePolicy`` is a :class:`~hivla.policies.RolloutPolicy` wrapper, so the evaluation harness drives
it like any policy (``hivla.evaluation.evaluate(cfg, policy=ProbePolicy(...))``). At every query it
records the env's subtask count, the policy's plan and current subtask (hierarchical policies), its
reasoning trace, the oracle plan (the env's subtasks) and the expert's annotation of the same state
for the subtask the low level was given (:meth:`hivla.sim.ScriptedExpert.label`), and, for a
policy that locates its target (``looking_at``), where that target projects in each camera. With ``feed`` it
also replaces the VLA's traces by the expert's (``VLAPolicy.set_trace_source``): ``"reasoning"``
the target and phase only, ``"trace"`` the whole trace.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from hivla.planning.grammar import PlanError, parse_subtask_text
from hivla.planning.spec import HierarchicalSpec, is_hierarchical_spec
from hivla.policies import RolloutPolicy, load_rollout_policy
from hivla.policies.builtin import ExpertPolicy
from hivla.policies.vla.reasoning import Trace, parse_reasoning
from hivla.types import CAMERAS

FEEDS = ("reasoning", "trace")
# variant -> (oracle plan and monitor, expert trace fed: None | "reasoning" | "trace")
VARIANTS: dict[str, tuple[bool, str | None]] = {
    "as_is": (False, None),
    "oracle_plan": (True, None),
    "oracle_reasoning": (False, "reasoning"),
    "oracle_trace": (False, "trace"),
    "oracle_all": (True, "trace"),
}


def _low(policy: Any) -> Any:
    return getattr(policy, "low", policy)


def _vla(policy: Any) -> Any:
    """The trained VLA inside ``policy`` (flat, or a hierarchical policy's low level), or None."""
    inner = getattr(_low(policy), "inner", None)
    if not callable(getattr(inner, "set_trace_source", None)) or getattr(inner, "config", None) is None:
        return None
    return inner


def trace_seam(policy: Any) -> Any:
    """The VLA inside ``policy`` that takes a trace source, or None when the policy generates no trace."""
    vla = _vla(policy)
    return vla if vla is not None and vla.config.reasoning.enabled else None


def stack(spec: str, policy: Any) -> dict[str, str]:
    """What the policy's plan and trace are: ``learned`` (substitutable), ``oracle`` (already the
    oracle: not a cause) or ``none`` (the policy has no such part); ``locate``: ``learned`` when a
    policy without a trace says where its target is (trained with ``localize``), which the
    diagnosis checks for perception instead."""
    if is_hierarchical_spec(spec):
        h = HierarchicalSpec.parse(spec)
        plan = "oracle" if (h.planner, h.monitor) == ("oracle", "oracle") else "learned"
    else:
        plan = "none"
    if isinstance(_low(policy), ExpertPolicy):
        trace = "oracle"
    else:
        trace = "learned" if trace_seam(policy) is not None else "none"
    vla = _vla(policy)
    locates = trace == "none" and vla is not None and vla.config.localize > 0
    return {"plan": plan, "trace": trace, "locate": "learned" if locates else "none"}


def variants(parts: dict[str, str]) -> list[str]:
    """The substitutions a policy with these ``parts`` (:func:`stack`) can run, ``as_is`` first."""
    out = ["as_is"]
    if parts["plan"] == "learned":
        out.append("oracle_plan")
    if parts["trace"] == "learned":
        out += ["oracle_reasoning", "oracle_trace"]
    if parts["plan"] == "learned" and parts["trace"] == "learned":
        out.append("oracle_all")
    return out


def load_variant(spec: str, variant: str) -> RolloutPolicy:
    """``spec`` with the variant's oracle parts: planner and monitor oracle for the plan variants
    (the expert trace is fed by :class:`ProbePolicy`)."""
    oracle_plan, _ = VARIANTS[variant]
    if not oracle_plan:
        return load_rollout_policy(spec)
    h = dataclasses.replace(HierarchicalSpec.parse(spec), planner="oracle", monitor="oracle")
    return h.build(name=f"{spec} [{variant}]")


class ProbePolicy(RolloutPolicy):
    """``inner`` with a per-query log (``logs[seed]``) and, with ``feed``, the expert's traces."""

    def __init__(self, inner: RolloutPolicy, feed: str | None = None, record: bool = True) -> None:
        if feed is not None and feed not in FEEDS:
            raise ValueError(f"feed must be None or one of {FEEDS}, got {feed!r}")
        self.inner, self.feed, self.record = inner, feed, record
        for key in ("name", "action_space", "embodiments", "action_dim", "needs_images", "execute_steps",
                    "image_size"):  # fmt: skip
            setattr(self, key, getattr(inner, key))
        self.seam = trace_seam(inner)
        if feed and self.seam is None:
            raise ValueError(
                f"policy {inner.name!r} generates no reasoning trace: nothing to feed the expert's into"
            )
        self.logs: dict[int, dict[str, Any]] = {}
        self.env = self.expert = None

    def start_episode(self, env: Any, seed: int) -> None:
        from hivla.sim import ScriptedExpert

        self.env, self.expert = env, ScriptedExpert(env)
        self._log = {"oracle_plan": [s.text for s in env.spec.subtasks], "queries": []}
        if self.record:
            self.logs[int(seed)] = self._log
        if self.seam is not None:  # set at every episode: a policy object may serve several variants
            self.seam.set_trace_source(self._expert_trace if self.feed else None)
        self.inner.start_episode(env, seed)

    def reset(self) -> None:
        self.inner.reset()

    def _annotation(self, obs: dict[str, Any], subtask: str | None) -> Any:
        """The expert's annotation at this state for ``subtask`` (the env's current one if unreadable)."""
        try:
            sub = None if subtask is None else parse_subtask_text(subtask)
        except PlanError:
            sub = None
        return self.expert.label(obs, sub)[1]

    def _expert_trace(self, obs: dict[str, Any], generated: Trace) -> Trace:
        truth = parse_reasoning(self._annotation(obs, obs.get("instruction")).text())
        if self.feed == "reasoning":
            return dataclasses.replace(generated, target=truth.target, phase=truth.phase)
        return truth

    def sample_actions(self, obs: dict[str, Any]) -> Any:
        chunk = self.inner.sample_actions(obs)
        if self.record:
            self._log["queries"].append(self._query(obs))
        return chunk

    def _query(self, obs: dict[str, Any]) -> dict[str, Any]:
        env, inner = self.env, self.inner
        done, subtasks = env.subtask_index, env.spec.subtasks
        plan_subtask = inner.plan_subtask
        note = self._annotation(obs, plan_subtask) if done < len(subtasks) else None
        looking = inner.looking_at
        target_uv = None
        if looking is not None and note is not None and note.position is not None:
            where = env.project(np.asarray(note.position))  # (cameras, 3): u, v, visible
            target_uv = {c: [float(x) for x in where[CAMERAS.index(c)]] for c in looking}
        return {
            "step": int(env.steps), "completed": int(done),
            "env_subtask": subtasks[done].text if done < len(subtasks) else None,
            "plan": inner.plan_subtasks, "plan_subtask": plan_subtask, "trace": inner.reasoning,
            "expert": None if note is None else note.text(),
            "looking_at": None if looking is None else {c: list(uv) for c, uv in looking.items()},
            "target_uv": target_uv,
        }  # fmt: skip

    @property
    def reasoning(self) -> str | None:
        return self.inner.reasoning

    @property
    def plan_subtask(self) -> str | None:
        return self.inner.plan_subtask

    @property
    def plan_subtasks(self) -> list[str] | None:
        return self.inner.plan_subtasks

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        return self.inner.looking_at
