"""A scripted low-level skill policy: executes whatever subtask text it is given, with privileged
state. The "oracle low level" for ablations and for testing planners, monitors and replanning."""

from __future__ import annotations

from typing import Any

import numpy as np

from hivla.planning.grammar import parse_subtask_text
from hivla.policies.builtin import ExpertPolicy
from hivla.policies.specs import register_rollout_policy


@register_rollout_policy("subtask-expert")
class SubtaskExpertPolicy(ExpertPolicy):
    """``obs["instruction"]`` must be one canonical subtask text (a hierarchical policy's output)."""

    name = "subtask-expert"

    def sample_actions(self, obs: dict[str, Any]) -> np.ndarray:
        if self._expert is None:
            raise RuntimeError("SubtaskExpertPolicy.start_episode(env, seed) must run before sample_actions")
        action, annotation = self._expert.act_on(parse_subtask_text(obs["instruction"]))
        self._reasoning = annotation.text()
        return np.asarray(action, dtype=np.float32)[None, None]  # (1, 1, A)
