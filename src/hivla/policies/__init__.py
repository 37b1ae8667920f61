"""Policies, one folder each (configuration, processor, model), and the checkpoint loader.

``load_policy(run_or_checkpoint_dir)`` returns a policy with ``.config``, ``.embodiments``,
``.action_space`` ("native" | "universal"), ``.norm_stats`` and ``sample_actions(obs)`` on raw env
observations (batched or not) returning unnormalized float32[B, H, A].
"""

from hivla.policies import vla  # noqa: F401  (registers "vla")
from hivla.policies.base import POLICIES, BasePolicy, load_policy, register_policy, resolve_checkpoint
from hivla.policies.vla import FitData, VLAConfig, VLAPolicy, VLAProcessor

__all__ = [
    "POLICIES",
    "BasePolicy",
    "FitData",
    "VLAConfig",
    "VLAPolicy",
    "VLAProcessor",
    "load_policy",
    "register_policy",
    "resolve_checkpoint",
]
