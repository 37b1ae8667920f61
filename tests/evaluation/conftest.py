"""Small policy objects for harness tests (the built-ins live in hivla.policies.builtin)."""

import numpy as np
import pytest


class ConstantPolicy:
    """Returns the same chunk every query; declares what the adapter reads."""

    def __init__(self, action, horizon=1, action_space="native", embodiments=(), action_dim=None):
        self.action = np.asarray(action, dtype=np.float32)
        self.horizon = horizon
        self.action_space = action_space
        self.embodiments = embodiments
        self.action_dim = action_dim
        self.queries = 0
        self.resets = 0

    def sample_actions(self, obs):
        self.queries += 1
        return np.tile(self.action, (1, self.horizon, 1))  # (1, H, A)

    def reset(self):
        self.resets += 1


class GlobalNoisePolicy:
    """Random native floating actions from NumPy's *global* generator (seeded by the harness)."""

    action_space = "native"
    embodiments = ("floating",)

    def sample_actions(self, obs):
        a = np.random.uniform(-1, 1, size=(1, 3, 5)).astype(np.float32)
        a[..., :3] *= 0.03
        return a

    def reset(self):
        pass


@pytest.fixture
def constant_policy():
    return ConstantPolicy


@pytest.fixture
def noise_policy():
    return GlobalNoisePolicy
