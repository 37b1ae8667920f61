"""Experiment configs and named presets (``debug``, ``quick``, ``default``); JSON (de)serialization."""

from hivla.configs.presets import PRESETS, DataConfig, ExperimentConfig, TrainConfig, get_preset
from hivla.utils.serialization import config_from_dict, config_to_dict

__all__ = [
    "PRESETS",
    "DataConfig",
    "ExperimentConfig",
    "TrainConfig",
    "config_from_dict",
    "config_to_dict",
    "get_preset",
]
