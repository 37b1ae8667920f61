"""Safety wrappers on commanded actions: NaN/inf guard, limits, workspace, rate limit, e-stop."""

from hivla.safety.filter import INTERVENTION_KINDS, SafetyConfig, SafetyFilter
from hivla.safety.policy import SafeActor, SafePolicy

__all__ = ["INTERVENTION_KINDS", "SafeActor", "SafePolicy", "SafetyConfig", "SafetyFilter"]
