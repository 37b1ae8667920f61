"""One config to put a world model into the policy runtime: which wrappers, in which order.

    runtime = WorldModelRuntime(world_model="runs/wm-jepa", veto=VetoConfig(), refine=CEMConfig(prior_weight=1.0))
    policy = wrap_policy(load_policy("runs/vla"), runtime)     # VLA -> CEM refiner -> veto -> outcome monitor

Order (innermost first): the CEM refiner improves the policy's proposal; the veto checks what
will actually be executed (so it also guards the refiner); the outcome monitor records the
predicted success of the chunk that leaves the stack. Every wrapper keeps the policy seam
(``sample_actions(obs) -> float32[B, H, A]``, ``reset()``, ``start_episode(env, seed)``), so the
result drops into ``hivla.evaluation.evaluate(cfg, policy=...)`` or any chunk broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hivla.world_model.planning import CEMConfig
from hivla.world_model.safety import VetoConfig


@dataclass(frozen=True)
class WorldModelRuntime:
    """``world_model``: a run or checkpoint directory. ``None`` disables a wrapper."""

    world_model: str
    veto: VetoConfig | None = field(default_factory=VetoConfig)
    refine: CEMConfig | None = None
    monitor_outcome: bool = False

    def __post_init__(self) -> None:
        if not self.world_model:
            raise ValueError("world_model must name a `hivla train-world-model` run or checkpoint directory")
        if self.veto is None and self.refine is None and not self.monitor_outcome:
            raise ValueError("enable at least one of veto, refine, monitor_outcome")


def wrap_policy(policy: Any, runtime: WorldModelRuntime, model: Any = None) -> Any:
    """``policy`` wrapped as ``runtime`` asks (the world model is loaded unless ``model`` is given)."""
    from hivla.world_model.checkpoint import load_world_model
    from hivla.world_model.outcome import OutcomeMonitor
    from hivla.world_model.planning import CEMRefiner
    from hivla.world_model.safety import WorldModelVeto

    model = model if model is not None else load_world_model(runtime.world_model)
    if runtime.refine is not None:
        policy = CEMRefiner(policy, model, runtime.refine)
    if runtime.veto is not None:
        policy = WorldModelVeto(policy, model, runtime.veto)
    if runtime.monitor_outcome:
        policy = OutcomeMonitor(policy, model)
    return policy
