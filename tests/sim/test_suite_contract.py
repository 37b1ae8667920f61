"""One contract over every registered suite, built-in and external: lookup, gymnasium id, seeds,
embodiments; and the env of each built-in suite and of one suite per external benchmark (skipped,
with the reason, where the benchmark is not set up here)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hivla.errors import HivlaError
from hivla.sim import (
    EXTERNAL_SUITES,
    check_embodiment,
    embodiment_info,
    embodiments_of,
    get_suite,
    gym_id,
    make_env,
    suite_names,
)
from hivla.sim.adapters import BenchmarkUnavailableError
from hivla.sim.adapters.worker import resolve_python

INFO_KEYS = {
    "instruction", "subtasks", "task_kinds", "subtask_index", "completed", "chain_length", "success",
    "progress", "shifts", "seed", "step", "privileged", "privileged_vector",
}  # fmt: skip


def _env_suites() -> list[str]:
    """Every built-in suite and the first suite of each external benchmark."""
    first: dict[str, str] = {}
    for name, s in EXTERNAL_SUITES.items():
        first.setdefault(s.benchmark, name)
    return [n for n in suite_names() if n not in EXTERNAL_SUITES] + sorted(first.values())


@pytest.mark.parametrize("name", suite_names())
def test_every_suite_is_registered_everywhere(name):
    suite = get_suite(name)
    assert suite.name == name and gym_id(name) in gym.registry
    assert gym.spec(gym_id(name)).kwargs["suite"] == name
    train, heldout = set(suite.train_seeds), set(suite.heldout_seeds)
    assert train and heldout and not train & heldout
    embodiments = embodiments_of(name)
    assert embodiments
    for emb in embodiments:
        check_embodiment(name, emb)
        info = embodiment_info(emb)
        assert info.action_dim == len(info.action_names) >= 1 and info.state_dim >= 1
    with pytest.raises(HivlaError):
        check_embodiment(name, "no-such-robot")


@pytest.mark.parametrize("name", EXTERNAL_SUITES.names())
def test_every_external_suite_declares_its_benchmark(name):
    suite = get_suite(name)
    names = [t.name for t in suite.tasks]
    assert len(set(names)) == len(names) and all(t.instruction.strip() for t in suite.tasks)
    assert set(suite.camera_names) <= {"front", "wrist"} and suite.backend_path.is_file()
    assert suite.package and suite.max_steps >= 1 and suite.fps >= 1
    robot = suite.robot
    rng = np.random.default_rng(0)
    native = rng.uniform(robot.action_low, robot.action_high) * 0.5
    if robot.has_universal:
        universal = robot.to_universal(native)
        assert universal.shape == (7,) and universal.dtype == np.float32
        back = robot.from_universal(universal)
        assert back.shape == (robot.action_dim,)
        np.testing.assert_allclose(
            robot.to_universal(back), universal, atol=1e-6
        )  # the actuated part survives
    for seed in list(suite.heldout_seeds[:3]):
        assert suite.task_for(seed) in suite.tasks


@pytest.mark.parametrize("name", _env_suites())
def test_env_contract(name):
    suite = get_suite(name)
    if name in EXTERNAL_SUITES:
        try:
            resolve_python(suite)
        except BenchmarkUnavailableError as exc:
            pytest.skip(f"{suite.benchmark} is not set up here: {exc}")
    emb = embodiments_of(name)[0]
    env = make_env(name, emb, image_size=64)
    try:
        seed = int(suite.heldout_seeds[2])
        obs1, info1 = env.reset(seed=seed)
        obs2, info2 = env.reset(seed=seed)
        assert obs1["instruction"] == obs2["instruction"] and info1["subtasks"] == info2["subtasks"]
        np.testing.assert_array_equal(obs1["state"], obs2["state"])
        assert (
            set(info1) >= INFO_KEYS and info1["seed"] == seed and info1["chain_length"] in suite.chain_lengths
        )
        assert set(obs1["images"]) == set(env.cameras)
        for img in obs1["images"].values():
            assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert obs1["state"].shape == (env.embodiment.state_dim,) and obs1["state"].dtype == np.float32
        _, reward, _, truncated, info = env.step(env.action_space.sample() * 0.1)
        assert isinstance(reward, float) and info["step"] == 1 and not truncated
        assert all(env.subtask_done(s) in (True, False) for s in env.spec.subtasks)
        with pytest.raises(ValueError, match="NaN"):
            env.step(np.full(env.action_space.shape, np.nan))
    finally:
        env.close()
