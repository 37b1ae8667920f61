"""Reasoning before actions vs direct actions by horizon length (``hivla experiment reasoning-ablation``).

``config`` (arms, sizes), ``run`` (train, evaluate, time every arm), ``report`` (summary.md,
report.html).
"""

from hivla.experiments.reasoning_ablation.config import ARMS, AblationConfig
from hivla.experiments.reasoning_ablation.run import run_ablation

__all__ = ["ARMS", "AblationConfig", "run_ablation"]
