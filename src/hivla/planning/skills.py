"""A scripted low-level skill policy: executes whatever subtask text it is given, with privileged
state. The "oracle low level" for ablations and for testing planners, monitors and replanning."""

from __future__ import annotations

from typing import Any

import numpy as np

from hivla.evaluation.policies import EVAL_POLICIES, EvalPolicy
from hivla.planning.grammar import parse_subtask_text


@EVAL_POLICIES.register("subtask-expert")
class SubtaskExpertPolicy(EvalPolicy):
    """``obs["instruction"]`` must be one canonical subtask text (a hierarchical policy's output)."""

    name = "subtask-expert"
    needs_images = False

    def __init__(self) -> None:
        self._expert = None
        self._reasoning: str | None = None

    def start_episode(self, env: Any, seed: int) -> None:
        from hivla.sim.expert import ScriptedExpert

        self._expert = ScriptedExpert(env)

    def reset(self) -> None:
        if self._expert is not None:
            self._expert.reset()

    def sample_actions(self, obs: dict[str, Any]) -> np.ndarray:
        if self._expert is None:
            raise RuntimeError("SubtaskExpertPolicy.start_episode(env, seed) must run before sample_actions")
        action, annotation = self._expert.act_on(parse_subtask_text(obs["instruction"]))
        self._reasoning = annotation.text()
        return np.asarray(action, dtype=np.float32)[None, None]  # (1, 1, A)

    @property
    def reasoning(self) -> str | None:
        return self._reasoning
