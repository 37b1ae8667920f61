"""Latent actions across embodiments (``hivla experiment latent-transfer``): the alignment matrix of
latent-to-action probes and the data efficiency of latent pretraining.

``config`` (embodiments, arms, presets), ``run`` (record, train, probe, fine-tune, evaluate),
``report`` (summary.md, report.html).
"""

from hivla.experiments.latent_transfer.config import ARMS, EXPERIMENT_PRESETS, TransferConfig
from hivla.experiments.latent_transfer.run import run_experiment

__all__ = ["ARMS", "EXPERIMENT_PRESETS", "TransferConfig", "run_experiment"]
