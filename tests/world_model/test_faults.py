"""The fault-injecting expert: exact look-ahead, rewound bookkeeping, reproducible faults."""

import numpy as np
import pytest

from hivla.actions.chunking import ChunkBroker
from hivla.sim import make_env
from hivla.world_model.faults import FaultConfig, FaultyExpert, corrupt


@pytest.fixture(scope="module")
def env():
    e = make_env("tabletop-single", render=False)
    yield e
    e.close()


def test_clean_chunks_reproduce_the_closed_loop_expert(env):
    from hivla.sim import ScriptedExpert

    obs, info = env.reset(seed=5)
    reference = []
    expert = ScriptedExpert(env)
    for _ in range(16):
        action, _ = expert.act(obs, info)
        reference.append(action)
        obs, *_, info = env.step(action)
    env.reset(seed=5)
    policy = FaultyExpert(FaultConfig(horizon=8, fault_rate=0.0))
    policy.start_episode(env, 5)
    broker = ChunkBroker(policy, 8)
    broker.reset()
    executed = []
    for _ in range(16):
        executed.append(broker.act(None))
        env.step(executed[-1])
    assert np.allclose(np.stack(executed), np.stack(reference), atol=1e-5)


def test_asking_again_at_the_same_step_redraws_only_the_fault(env):
    env.reset(seed=7)
    policy = FaultyExpert(FaultConfig(horizon=8, fault_rate=1.0))
    policy.start_episode(env, 7)
    chunks = [policy.sample_actions(None)[0] for _ in range(6)]
    assert policy.last_fault is not None and sum(policy.faults.values()) == 6
    assert len({c.tobytes() for c in chunks}) > 1  # fresh draws
    clean = FaultyExpert(FaultConfig(horizon=8, fault_rate=0.0))
    clean.start_episode(env, 7)
    a, b = clean.sample_actions(None), clean.sample_actions(None)
    assert np.array_equal(a, b)  # the expert's bookkeeping is rewound between asks
    again = FaultyExpert(FaultConfig(horizon=8, fault_rate=1.0))
    again.start_episode(env, 7)
    assert np.array_equal(again.sample_actions(None)[0], chunks[0])  # same seed, step and ask: same fault


def test_corrupt_leaves_the_steps_before_the_fault():
    chunk = np.zeros((8, 7), np.float32)
    out = corrupt(chunk, "dive", 3, np.random.default_rng(0))
    assert np.all(out[:3] == 0) and np.all(out[3:, 2] < 0)
    assert np.all(corrupt(chunk, "release", 5, np.random.default_rng(0))[5:, 6] == -1)
    with pytest.raises(ValueError, match="available"):
        corrupt(chunk, "explode", 0, np.random.default_rng(0))
