"""One policy across bodies (``hivla experiment cross-embodiment``): a universal-action policy trained
on every body's data vs one policy per body vs zero-shot on a body held out of training.

``config`` (bodies, arms, presets), ``run`` (record, train, evaluate), ``report`` (summary.md,
report.html).
"""

from hivla.experiments.cross_embodiment.config import ARMS, EXPERIMENT_PRESETS, CrossConfig
from hivla.experiments.cross_embodiment.run import run_experiment

__all__ = ["ARMS", "EXPERIMENT_PRESETS", "CrossConfig", "run_experiment"]
