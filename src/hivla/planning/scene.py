"""What a planner may know of the scene: object names and shapes (from the env or a dataset)."""

from __future__ import annotations

from hivla.sim import catalogue as cat


def scene_objects(env) -> dict[str, str]:
    """name -> shape for the objects on the table in the env's current episode."""
    return {o.name: cat.SLOT_BY_NAME[o.slot].shape for o in env.spec.objects}
