import numpy as np
import pytest
import torch

from hivla.actions.chunking import ChunkBroker, TemporalEnsembler
from hivla.safety import SafeActor, SafePolicy, SafetyConfig

A, H = 4, 3
LIMITS = {"action_low": -np.ones(A), "action_high": np.ones(A)}


class WildPolicy:
    """Returns a torch chunk with NaN, inf and huge values."""

    def __init__(self):
        self.resets = 0

    def sample_actions(self, obs):
        chunk = torch.full((1, H, A), 0.5)
        chunk[0, 0, 0] = float("nan")
        chunk[0, 1, 1] = float("inf")
        chunk[0, 2, 2] = 1e30
        return chunk

    def reset(self):
        self.resets += 1


def test_safe_policy_filters_chunks_and_counts():
    policy = SafePolicy(WildPolicy(), SafetyConfig(**LIMITS))
    out = policy.sample_actions({})
    assert out.shape == (1, H, A) and out.dtype == np.float32
    assert np.all(out >= -1) and np.all(out <= 1)
    np.testing.assert_array_equal(out[0, 0], np.zeros(A))  # the NaN step became the hold action
    assert policy.interventions["nonfinite"] == 2 and policy.interventions["clip"] == 1
    policy.reset()
    assert policy.policy.resets == 1


def test_safe_policy_workspace_needs_the_end_effector_and_commits_k():
    cfg = SafetyConfig(**LIMITS, max_delta=0.1, workspace_low=-np.ones(3), workspace_high=np.ones(3))
    with pytest.raises(ValueError, match="ee_position"):
        SafePolicy(WildPolicy(), cfg)
    policy = SafePolicy(WildPolicy(), cfg, ee_position=lambda obs: obs["ee"], execute_steps=2)
    out = policy.sample_actions({"ee": np.zeros(3)})
    np.testing.assert_array_equal(policy.filter.last_action, out[:, 1])
    broker = ChunkBroker(policy, execute_steps=2)
    assert np.all(np.abs(broker.act({"ee": np.zeros(3)})) <= 1)


def test_safe_actor_after_a_broker_and_an_ensembler():
    for actor in (ChunkBroker(WildPolicy(), execute_steps=H), TemporalEnsembler(WildPolicy())):
        safe = SafeActor(actor, SafetyConfig(**LIMITS, max_delta=0.25))
        steps = [safe.act({}) for _ in range(H)]
        assert all(s.shape == (A,) and np.all(np.abs(s) <= 1) for s in steps)
        assert safe.interventions["nonfinite"] >= 1
        safe.reset()
        assert safe.filter.last_action is None
