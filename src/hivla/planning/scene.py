"""What a planner may know of the scene: object names and shapes (from the env or a dataset)."""

from __future__ import annotations


def scene_objects(env) -> dict[str, str]:
    """name -> shape for the objects on the table in the env's current episode (a block: "block")."""
    return {o.name: o.label for o in env.spec.objects}
