"""RGB vs RGB-D vs RGB-D + contact policies, in distribution and under lighting, texture, camera and
size shifts, on the same seeds: does depth make a policy more robust (``hivla experiment sensing``)?

``config`` holds the arms, the presets and the run's configuration, ``run`` records, trains and
evaluates, ``report`` writes results.json, summary.md and report.html.
"""

from hivla.experiments.sensing.config import ARMS, EXPERIMENT_PRESETS, SensingConfig
from hivla.experiments.sensing.run import run_experiment

__all__ = ["ARMS", "EXPERIMENT_PRESETS", "SensingConfig", "run_experiment"]
