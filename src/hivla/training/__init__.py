"""Training: the Accelerate trainer, checkpoints with exact resume, schedules, EMA, feature caching."""

from hivla.configs.presets import RolloutEvalConfig
from hivla.training.rollouts import EvalFn, SimRolloutEval
from hivla.training.trainer import Trainer, load_experiment, main

__all__ = ["EvalFn", "RolloutEvalConfig", "SimRolloutEval", "Trainer", "load_experiment", "main"]
