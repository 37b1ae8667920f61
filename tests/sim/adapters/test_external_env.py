"""An external suite as a hivla env, in process and through the env worker (the reach test benchmark)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hivla.errors import HivlaError
from hivla.sim import get_suite, make_env
from hivla.sim.adapters import BenchmarkUnavailableError
from hivla.sim.adapters.worker import WorkerError, record_python, resolve_python

SUITES = ("test-reach", "test-reach-worker")


def _episode(env, seed):
    obs, info = env.reset(seed=seed)
    states, steps = [obs["state"]], 0
    while True:
        obs, _, terminated, truncated, info = env.step(env.scripted_action())
        states.append(obs["state"])
        steps += 1
        if terminated or truncated:
            return np.stack(states), info, obs


@pytest.mark.parametrize("suite", SUITES)
def test_scripted_episodes_succeed_and_replay(suite):
    env = make_env(suite, "point-hand", image_size=64)
    try:
        assert ("worker" in env.where) == (suite == "test-reach-worker")
        seed = get_suite(suite).heldout_seeds[1]
        first, info, obs = _episode(env, seed)
        again, _, _ = _episode(env, seed)
        np.testing.assert_array_equal(first, again)
        assert info["success"] and info["completed"] == 1 and info["progress"] == 1.0
        assert (
            info["task_kinds"] == ["reach-right"] and info["instruction"] == "reach the red dot on the right"
        )
        assert obs["instruction"] == info["instruction"] and obs["state"].dtype == np.float32
        assert set(obs["images"]) == {"front", "wrist"} and obs["images"]["front"].shape == (64, 64, 3)
        assert env.observation_space["images"]["front"].contains(obs["images"]["front"])
        assert env.versions()["numpy"] == np.__version__
    finally:
        env.close()


def test_bad_actions_options_and_backend_errors_are_clear():
    env = make_env("test-reach", "point-hand", image_size=64, render=False)
    env.reset(seed=3)
    with pytest.raises(ValueError, match=r"point-hand expects a native action of shape \(3,\)"):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan, 0, 0]))
    assert env.observation()["images"]["front"].shape == (0, 0, 3)
    env.close()
    with pytest.raises(HivlaError, match="pass --embodiment point-hand"):
        make_env("test-reach", "arm6")
    with pytest.raises(HivlaError, match="takes no hivla shifts"):
        make_env("test-reach", "point-hand", shifts=["lighting=1"])
    with pytest.raises(HivlaError, match=r"no camera\(s\) \['side'\]"):
        make_env("test-reach", "point-hand", cameras=("side",))
    broken = make_env("test-reach-broken", "point-hand", image_size=64)
    broken.reset(seed=1)
    with pytest.raises(RuntimeError, match="the benchmark broke"):
        broken.step(np.zeros(3))
    broken.close()


def test_worker_errors_come_back_and_a_dead_worker_is_reported(monkeypatch):
    env = make_env("test-reach-worker", "point-hand", image_size=64)
    with pytest.raises(ValueError, match="unknown task"):
        env.backend.call("reset", task="nowhere", seed=1)
    env.reset(seed=2)
    env.backend.proc.kill()
    env.backend.proc.wait()
    with pytest.raises(WorkerError, match="exited with code"):
        env.step(np.zeros(3))
    env.close()


def test_universal_actions_map_both_ways():
    env = make_env("test-reach", "point-hand", image_size=64)
    env.reset(seed=4)
    native = np.array([0.5, -0.25, 1.0], np.float32)
    universal = env.to_universal(native)
    assert universal.shape == (7,) and universal.dtype == np.float32
    np.testing.assert_allclose(env.from_universal(universal), native, atol=1e-6)
    env.step_universal(universal)
    # An external robot has no base: a universal action with a base part (10 values) drops it.
    assert not env.embodiment.has_base
    with_base = np.r_[universal, 0.02, -0.01, 0.1].astype(np.float32)
    np.testing.assert_array_equal(env.from_universal(with_base), env.from_universal(universal))
    env.close()


def test_interpreter_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("HIVLA_HOME", str(tmp_path / "home"))  # no recorded interpreters
    suite = get_suite("test-reach")
    assert resolve_python(suite) is None  # numpy imports here: in process
    record_python("testreach", "/no/such/python")
    with pytest.raises(BenchmarkUnavailableError, match="does not exist"):
        resolve_python(suite)
    monkeypatch.setenv("HIVLA_TESTREACH_PYTHON", "/usr/bin/env")
    assert resolve_python(suite) == "/usr/bin/env"  # the variable wins over the record
    missing = get_suite("metaworld-mt10")
    monkeypatch.delenv("HIVLA_METAWORLD_PYTHON", raising=False)
    import importlib.util

    if importlib.util.find_spec("metaworld") is None:
        with pytest.raises(BenchmarkUnavailableError, match="hivla sim setup metaworld"):
            resolve_python(missing)


def test_gymnasium_make_builds_external_and_builtin_suites():
    env = gym.make("hivla/test-reach-v1", embodiment="point-hand", image_size=64)
    obs, info = env.reset(seed=7)
    assert obs["images"]["front"].shape == (64, 64, 3) and info["chain_length"] == 1
    obs, reward, *_ = env.step(env.action_space.sample())
    assert isinstance(reward, float) and env.render().shape == (64, 64, 3)
    env.close()
    env = gym.make("hivla/tabletop-chain-3-v1", embodiment="arm6", image_size=64)
    obs, info = env.reset(seed=3)
    assert info["chain_length"] == 3 and obs["state"].shape == env.observation_space["state"].shape
    env.step(env.action_space.sample())
    env.close()


def test_configs_refuse_what_an_external_suite_cannot_do(tmp_path):
    from hivla.data.recorder import CollectConfig
    from hivla.evaluation.config import EvalConfig
    from hivla.evaluation.reference import RolloutConfig

    with pytest.raises(HivlaError, match="pass --embodiment point-hand"):
        EvalConfig(suite="test-reach", embodiment="floating")
    with pytest.raises(ValueError, match="takes no shifts"):
        EvalConfig(suite="test-reach", embodiment="point-hand", shifts=("lighting=1",))
    with pytest.raises(ValueError, match="takes no shifts"):
        RolloutConfig(suite="test-reach", embodiment="point-hand", shifts=("lighting=1",))
    with pytest.raises(ValueError, match="action_noise"):
        CollectConfig(out=tmp_path / "d", suite="test-reach", embodiment="point-hand", action_noise=0.01)
    with pytest.raises(HivlaError, match="robot of external suites"):
        EvalConfig(suite="tabletop-single", embodiment="sawyer")
    assert EvalConfig(suite="test-reach", embodiment="point-hand", episodes=50).seeds()[0] == 6_000_000
