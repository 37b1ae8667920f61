"""The flat VLA policy: configuration, processor and model (LeRobot-style folder)."""

from hivla.policies.vla.configuration_vla import ACTION_SPACES, VLAConfig
from hivla.policies.vla.modeling_vla import VLAModel, VLAPolicy
from hivla.policies.vla.processor_vla import FitData, VLAProcessor

__all__ = ["ACTION_SPACES", "FitData", "VLAConfig", "VLAModel", "VLAPolicy", "VLAProcessor"]
