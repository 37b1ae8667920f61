"""The oracle planner: reads the ground-truth decomposition from the env (an upper bound)."""

from __future__ import annotations

from typing import Any

from hivla.types import Plan


class OraclePlanner:
    """``plan(obs, instruction)`` returns the env's own subtasks. Bound to an env (a hierarchical
    policy binds it at each episode start)."""

    name = "oracle"

    def __init__(self, env: Any = None) -> None:
        self.env = env

    def plan(
        self, obs: dict[str, Any] | None, instruction: str, objects: dict[str, str] | None = None
    ) -> Plan:
        if self.env is None:
            raise RuntimeError("the oracle planner needs an env: OraclePlanner(env) or policy.start_episode")
        return Plan(instruction, tuple(self.env.spec.subtasks))
