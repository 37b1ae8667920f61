"""High-level planning: planners that turn an instruction into subtasks, validated by the grammar."""

from hivla.planning.grammar import PlanError, Step, expand_steps, validate_plan
from hivla.planning.learned import LearnedPlanner, PlannerConfig
from hivla.planning.llm import LLMPlanner, LLMPlannerConfig
from hivla.planning.oracle import OraclePlanner
from hivla.planning.scene import scene_objects

__all__ = [
    "LLMPlanner",
    "LLMPlannerConfig",
    "LearnedPlanner",
    "OraclePlanner",
    "PlanError",
    "PlannerConfig",
    "Step",
    "expand_steps",
    "scene_objects",
    "validate_plan",
]
