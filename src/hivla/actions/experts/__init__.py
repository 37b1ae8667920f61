"""Continuous action experts behind one interface: flow matching (pi0), diffusion (DDPM/DDIM), L1 (OFT)."""

from hivla.actions.experts import diffusion, flow, l1  # noqa: F401  (registers the experts)
from hivla.actions.experts.base import (
    ACTION_EXPERTS,
    ActionExpert,
    ExpertConfig,
    load_action_expert,
    make_action_expert,
    masked_mean,
    save_action_expert,
)
from hivla.actions.experts.diffusion import DiffusionConfig, DiffusionExpert
from hivla.actions.experts.flow import FlowMatchingConfig, FlowMatchingExpert
from hivla.actions.experts.l1 import L1RegressionConfig, L1RegressionExpert

__all__ = [
    "ACTION_EXPERTS",
    "ActionExpert",
    "DiffusionConfig",
    "DiffusionExpert",
    "ExpertConfig",
    "FlowMatchingConfig",
    "FlowMatchingExpert",
    "L1RegressionConfig",
    "L1RegressionExpert",
    "load_action_expert",
    "make_action_expert",
    "masked_mean",
    "save_action_expert",
]
