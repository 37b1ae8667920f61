"""World-model prediction error vs task failure under shifts (``hivla experiment world-model``).

``config`` (probe conditions, presets), ``run`` (errors, correlations, frames, reward, CEM), ``veto``
(the policy with and without the world-model veto), ``report`` (report.html, built with
``hivla.reporting``).
"""

from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS, ExperimentSpec, ProbeConfig
from hivla.experiments.world_model_validation.run import run_experiment

__all__ = ["EXPERIMENT_PRESETS", "ExperimentSpec", "ProbeConfig", "run_experiment"]
