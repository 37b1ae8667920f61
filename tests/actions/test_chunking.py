import math

import numpy as np
import pytest
import torch

from hivla.actions.chunking import ChunkBroker, Policy, TemporalEnsembler


class ScriptedPolicy:
    """Query q returns the chunk whose step h holds 100*q + h in every dimension (and batch row)."""

    def __init__(self, horizon=5, action_dim=2, batch=1, as_torch=False):
        self.horizon, self.action_dim, self.batch, self.as_torch = horizon, action_dim, batch, as_torch
        self.queries = 0
        self.resets = 0

    def sample_actions(self, obs):
        values = 100.0 * self.queries + np.arange(self.horizon, dtype=np.float32)  # (H,)
        self.queries += 1
        chunk = np.broadcast_to(values[None, :, None], (self.batch, self.horizon, self.action_dim)).copy()
        return torch.from_numpy(chunk) if self.as_torch else chunk

    def reset(self):
        self.resets += 1


def test_scripted_policy_satisfies_the_protocol():
    assert isinstance(ScriptedPolicy(), Policy)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_broker_executes_exactly_k_actions_per_query(k):
    policy = ScriptedPolicy(horizon=5)
    broker = ChunkBroker(policy, execute_steps=k)
    actions = [broker.act({}) for _ in range(4 * k)]
    assert policy.queries == broker.num_queries == 4
    expected = [100.0 * (i // k) + i % k for i in range(4 * k)]
    assert [a[0] for a in actions] == expected
    assert all(a.shape == (2,) and a.dtype == np.float32 for a in actions)


def test_broker_batches_accepts_torch_and_resets():
    policy = ScriptedPolicy(horizon=4, batch=3, as_torch=True)
    broker = ChunkBroker(policy, execute_steps=2)
    first = broker.act_batch({})
    assert first.shape == (3, 2)
    broker.act_batch({})
    broker.reset()
    assert policy.resets == 1
    np.testing.assert_array_equal(broker.act_batch({}), np.full((3, 2), 100.0))  # a fresh query
    with pytest.raises(ValueError, match="act_batch"):
        broker.act({})


def test_broker_rejects_bad_settings():
    with pytest.raises(ValueError, match="execute_steps"):
        ChunkBroker(ScriptedPolicy(), execute_steps=0)
    with pytest.raises(ValueError, match="exceeds the policy's chunk length H=5"):
        ChunkBroker(ScriptedPolicy(horizon=5), execute_steps=6).act({})

    class Flat(ScriptedPolicy):
        def sample_actions(self, obs):
            return np.zeros((5, 2))

    with pytest.raises(ValueError, match=r"float\[B, H, A\]"):
        ChunkBroker(Flat(), execute_steps=1).act({})


def test_temporal_ensembling_matches_hand_computed_weights():
    m = 0.5
    policy = ScriptedPolicy(horizon=3, action_dim=1)
    ens = TemporalEnsembler(policy, m=m)
    out = [ens.act({})[0] for _ in range(4)]
    w0, w1, w2 = 1.0, math.exp(-m), math.exp(-2 * m)  # oldest prediction first, weighted most
    expected = [
        0.0,  # t=0: only query 0, its step 0
        (w0 * 1 + w1 * 100) / (w0 + w1),  # t=1: q0 step 1, q1 step 0
        (w0 * 2 + w1 * 101 + w2 * 200) / (w0 + w1 + w2),  # t=2: q0, q1, q2
        (w0 * 102 + w1 * 201 + w2 * 300) / (w0 + w1 + w2),  # t=3: q0 has run out (H=3)
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert policy.queries == ens.num_queries == 4


def test_temporal_ensembling_m_zero_is_a_plain_mean_and_reset_forgets():
    policy = ScriptedPolicy(horizon=3, action_dim=1)
    ens = TemporalEnsembler(policy, m=0)
    ens.act({})
    assert ens.act({})[0] == pytest.approx((1 + 100) / 2)
    ens.reset()
    assert policy.resets == 1
    assert ens.act({})[0] == pytest.approx(200.0)  # only the new query counts
    with pytest.raises(ValueError, match="m must be"):
        TemporalEnsembler(policy, m=-1.0)


def test_temporal_ensembling_rejects_a_changing_chunk_shape():
    policy = ScriptedPolicy(horizon=3)
    ens = TemporalEnsembler(policy)
    ens.act({})
    policy.horizon = 4
    with pytest.raises(ValueError, match="chunk shape changed"):
        ens.act({})
