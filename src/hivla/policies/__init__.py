"""Policies: the runtime seam every rollout drives, and one folder per trainable policy.

- :mod:`.runtime`: :class:`RolloutPolicy` (``sample_actions(obs) -> float32[1, H, A]``, ``reset()``,
  the action space it speaks), :class:`PolicyAdapter` for any policy object, :func:`check_compatible`.
- :mod:`.builtin`: the scripted ``expert`` and ``random`` policies.
- :mod:`.specs`: one registry and one loader of policy specs (names, ``hierarchical:...``, run
  directories, ``module:factory``): ``load_rollout_policy(spec)``.
- :mod:`.base` and ``vla/``: trainable policies (``compute_loss``/``sample_actions``) and their
  checkpoints; ``load_policy(run_or_checkpoint_dir)`` returns a policy with ``.config``,
  ``.embodiments``, ``.action_space``, ``.norm_stats`` and ``sample_actions(obs)`` on raw env
  observations returning unnormalized float32[B, H, A].

The trainable policies (and torch) are imported on first use of their names, so rollouts of the
built-ins start without them.
"""

from __future__ import annotations

import importlib
from typing import Any

from hivla.policies import builtin  # noqa: F401  (registers expert, random)
from hivla.policies.builtin import ExpertPolicy, RandomPolicy
from hivla.policies.runtime import (
    ACTION_SPACES,
    ActionSpaceError,
    InterjectionError,
    PolicyAdapter,
    PolicyLoadError,
    RolloutPolicy,
    as_rollout_policy,
    check_compatible,
    interject_method,
)
from hivla.policies.specs import (
    ROLLOUT_POLICIES,
    load_rollout_policy,
    register_rollout_policy,
    rollout_policy_names,
)

_LAZY = {
    "POLICIES": "hivla.policies.base",
    "BasePolicy": "hivla.policies.base",
    "load_policy": "hivla.policies.base",
    "register_policy": "hivla.policies.base",
    "resolve_checkpoint": "hivla.policies.base",
    "FitData": "hivla.policies.vla",
    "VLAConfig": "hivla.policies.vla",
    "VLAPolicy": "hivla.policies.vla",
    "VLAProcessor": "hivla.policies.vla",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        importlib.import_module("hivla.policies.vla")  # registers "vla" with POLICIES
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hivla.policies' has no attribute {name!r}")


__all__ = [
    "ACTION_SPACES",
    "POLICIES",
    "ROLLOUT_POLICIES",
    "ActionSpaceError",
    "BasePolicy",
    "ExpertPolicy",
    "FitData",
    "InterjectionError",
    "PolicyAdapter",
    "PolicyLoadError",
    "RandomPolicy",
    "RolloutPolicy",
    "VLAConfig",
    "VLAPolicy",
    "VLAProcessor",
    "as_rollout_policy",
    "check_compatible",
    "interject_method",
    "load_policy",
    "load_rollout_policy",
    "register_policy",
    "register_rollout_policy",
    "resolve_checkpoint",
    "rollout_policy_names",
]
