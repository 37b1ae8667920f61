"""Plan an instruction into subtasks with the learned planner or an OpenAI-compatible LLM endpoint.

Examples:
  hivla plan "open the drawer, then press the button" --planner runs/planner
  hivla plan "put the red cube in the bowl" --llm-url http://127.0.0.1:8080 --objects "red cube=cube" "green bowl=bowl"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Print the subtasks a planner makes of an instruction."""

    instruction: tyro.conf.Positional[str]
    planner: Path | None = None
    """A directory written by `hivla planner train`."""
    llm_url: str | None = None
    """An OpenAI-compatible chat-completions endpoint (used when --planner is not given)."""
    llm_model: str = "default"
    objects: tuple[str, ...] = ()
    """Scene objects as name=shape (cube, cylinder, bowl, plate) to validate names against."""

    def __post_init__(self) -> None:
        if (self.planner is None) == (self.llm_url is None):
            raise ValueError("give exactly one of --planner DIR or --llm-url URL")
        for item in self.objects:
            if "=" not in item:
                raise ValueError(f"--objects {item!r}: expected name=shape, e.g. 'red cube=cube'")


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.planning import LearnedPlanner, LLMPlanner, LLMPlannerConfig

    objects = dict(item.split("=", 1) for item in cfg.objects) or None
    if cfg.planner is not None:
        planner = LearnedPlanner.load(cfg.planner)
    else:
        planner = LLMPlanner(LLMPlannerConfig(url=cfg.llm_url, model=cfg.llm_model))
    plan = planner.plan(None, cfg.instruction, objects)
    result = {"instruction": plan.instruction, "subtasks": [s.to_dict() for s in plan.subtasks]}
    if not quiet:
        for i, s in enumerate(plan.subtasks, 1):
            print(f"{i}. {s.text}")
    return result
