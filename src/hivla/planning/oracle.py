"""The oracle planner: reads the ground-truth decomposition from the env (an upper bound)."""

from __future__ import annotations

from typing import Any

from hivla.types import Plan


class OraclePlanner:
    """``plan(obs, instruction)`` returns the env's own subtasks. Bound to one env."""

    name = "oracle"

    def __init__(self, env) -> None:
        self.env = env

    def plan(self, obs: dict[str, Any] | None, instruction: str) -> Plan:
        return Plan(instruction, tuple(self.env.spec.subtasks))
