"""Training: one trainer core (``core.TrainerCore`` over a ``core.TrainingTask``) that the VLA policy,
the world model, the learned planner and the subtask monitor adapt to; checkpoints with exact resume,
schedules, EMA, feature caching."""

from hivla.configs.presets import RolloutEvalConfig
from hivla.training.core import Split, TrainerCore, TrainingTask
from hivla.training.rollouts import EvalFn, SimRolloutEval
from hivla.training.trainer import Trainer, load_experiment, main

__all__ = [
    "EvalFn", "RolloutEvalConfig", "SimRolloutEval", "Split", "Trainer", "TrainerCore", "TrainingTask",
    "load_experiment", "main",
]  # fmt: skip
