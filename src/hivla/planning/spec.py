"""Hierarchical policies named by one string, for ``hivla eval --policy`` and experiments.

    hierarchical:low=RUN_OR_BUILTIN,planner=oracle|learned:DIR|llm:URL,monitor=oracle|DIR

``low`` (required) is any policy ``load_rollout_policy`` resolves (a built-in such as
``subtask-expert``, or a run directory trained on subtask language); ``planner`` defaults to
``oracle`` and ``monitor`` to ``oracle``. Optional ``retries=N`` and ``replans=N`` set
:class:`~hivla.planning.hierarchical.HierarchyConfig`. ``wm=WM_RUN`` (a ``hivla train-world-model``
run) adds world-model-triggered replanning (:mod:`hivla.planning.wm_trigger`), tuned by
``wm_threshold=P`` (replan when the predicted success of the subtask is below P; default 0.2) and
``wm_patience=N`` (for N chunks in a row; default 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hivla.policies.runtime import PolicyLoadError
from hivla.policies.specs import register_rollout_policy

PREFIX = "hierarchical:"
KEYS = ("low", "planner", "monitor", "retries", "replans", "wm", "wm_threshold", "wm_patience")
COUNTS = ("retries", "replans", "wm_patience")
EXAMPLE = "hierarchical:low=subtask-expert,planner=learned:runs/planner,monitor=oracle"


class HierarchicalSpecError(PolicyLoadError):
    """A ``hierarchical:...`` policy spec that cannot be parsed."""


def is_hierarchical_spec(spec: str) -> bool:
    return spec.startswith(PREFIX)


@dataclass(frozen=True)
class HierarchicalSpec:
    """The parts of a hierarchical policy; ``parse`` reads the string form, ``build`` makes it."""

    low: str
    planner: str = "oracle"
    monitor: str = "oracle"
    retries: int = 1
    replans: int = 2
    wm: str = ""
    wm_threshold: float = 0.2
    wm_patience: int = 2

    def __post_init__(self) -> None:
        if not self.low or is_hierarchical_spec(self.low):
            raise HierarchicalSpecError(
                f"low={self.low!r}: expected a low-level policy (a built-in such as subtask-expert, or a "
                f"run directory), not empty and not another hierarchical spec. Example: {EXAMPLE}"
            )
        kind, _, arg = self.planner.partition(":")
        if self.planner != "oracle" and not (kind in ("learned", "llm") and arg):
            raise HierarchicalSpecError(
                f"planner={self.planner!r}: expected oracle, learned:DIR (a `hivla planner train` output) "
                f"or llm:URL (an OpenAI-compatible endpoint). Example: {EXAMPLE}"
            )
        if self.retries < 0 or self.replans < 0:
            raise HierarchicalSpecError(
                f"retries and replans must be >= 0, got {self.retries}, {self.replans}"
            )
        if not 0.0 < self.wm_threshold < 1.0 or self.wm_patience < 1:
            raise HierarchicalSpecError(
                f"wm_threshold must be within (0, 1) and wm_patience >= 1, got {self.wm_threshold}, "
                f"{self.wm_patience}. Example: {EXAMPLE},wm=runs/wm,wm_threshold=0.2"
            )
        if self.wm and not Path(self.wm).exists():
            raise HierarchicalSpecError(
                f"wm={self.wm!r}: no such directory; expected a `hivla train-world-model` run or checkpoint"
            )

    @classmethod
    def parse(cls, spec: str) -> HierarchicalSpec:
        """``hierarchical:key=value,...`` -> HierarchicalSpec; HierarchicalSpecError naming the bad part."""
        if not is_hierarchical_spec(spec):
            raise HierarchicalSpecError(f"{spec!r} does not start with {PREFIX!r}; example: {EXAMPLE}")
        fields: dict[str, Any] = {}
        for part in spec[len(PREFIX) :].split(","):
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise HierarchicalSpecError(
                    f"{spec!r}: part {part!r} is not key=value; expected keys {', '.join(KEYS)}. Example: {EXAMPLE}"
                )
            if key not in KEYS:
                raise HierarchicalSpecError(
                    f"{spec!r}: unknown key {key!r}; expected one of {', '.join(KEYS)}"
                )
            if key in fields:
                raise HierarchicalSpecError(f"{spec!r}: key {key!r} is given twice")
            if key in COUNTS:
                fields[key] = _count(spec, key, value)
            elif key == "wm_threshold":
                fields[key] = _probability(spec, key, value)
            else:
                fields[key] = value
        if "low" not in fields:
            raise HierarchicalSpecError(
                f"{spec!r}: low=... (the low-level policy) is required. Example: {EXAMPLE}"
            )
        return cls(**fields)

    def to_string(self) -> str:
        """The spec string that parses back to this spec."""
        parts = [f"low={self.low}", f"planner={self.planner}", f"monitor={self.monitor}",
                 f"retries={self.retries}", f"replans={self.replans}"]  # fmt: skip
        if self.wm:
            parts += [
                f"wm={self.wm}",
                f"wm_threshold={self.wm_threshold:g}",
                f"wm_patience={self.wm_patience}",
            ]
        return PREFIX + ",".join(parts)

    def build(self, name: str | None = None) -> Any:
        """The :class:`~hivla.planning.hierarchical.HierarchicalPolicy` this spec names."""
        from hivla.planning.hierarchical import HierarchicalPolicy, HierarchyConfig
        from hivla.policies.specs import load_rollout_policy

        cfg = HierarchyConfig(max_retries=self.retries, max_replans=self.replans)
        return HierarchicalPolicy(
            self.make_planner(),
            load_rollout_policy(self.low),
            self.make_monitor(),
            cfg,
            name=name or "hierarchical",
            trigger=self.make_trigger(),
        )

    def make_trigger(self) -> Any:
        """The world-model replan trigger (``wm=...``), or None."""
        if not self.wm:
            return None
        from hivla.planning.wm_trigger import ReplanTriggerConfig, WorldModelReplanTrigger

        return WorldModelReplanTrigger.load(
            self.wm, ReplanTriggerConfig(threshold=self.wm_threshold, patience=self.wm_patience)
        )

    def make_planner(self) -> Any:
        from hivla.planning import LearnedPlanner, LLMPlanner, LLMPlannerConfig, OraclePlanner

        kind, _, arg = self.planner.partition(":")
        if kind == "oracle":
            return OraclePlanner()
        if kind == "learned":
            return LearnedPlanner.load(arg)
        return LLMPlanner(LLMPlannerConfig(url=arg))

    def make_monitor(self) -> Any:
        from hivla.planning.hierarchical import OracleMonitor
        from hivla.planning.monitor import SubtaskMonitor

        if self.monitor == "oracle":
            return OracleMonitor()
        if not (Path(self.monitor) / "monitor.json").is_file():
            raise FileNotFoundError(
                f"monitor={self.monitor!r}: expected oracle or a directory written by `hivla monitor train` "
                "(it holds monitor.json)"
            )
        return SubtaskMonitor.load(self.monitor)


def _count(spec: str, key: str, value: str) -> int:
    if not value.isdigit():
        raise HierarchicalSpecError(f"{spec!r}: {key}={value!r} must be a whole number >= 0")
    return int(value)


def _probability(spec: str, key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise HierarchicalSpecError(f"{spec!r}: {key}={value!r} must be a number within (0, 1)") from None


@register_rollout_policy(PREFIX)
def load_hierarchical(spec: str) -> Any:
    """Parse and build a ``hierarchical:...`` spec (the policy is named by the spec)."""
    return HierarchicalSpec.parse(spec).build(name=spec)
