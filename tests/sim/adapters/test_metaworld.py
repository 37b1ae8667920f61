"""MetaWorld suites: their declarations always; episodes where MetaWorld is set up (in this
interpreter, or an env worker via HIVLA_METAWORLD_PYTHON / `hivla sim setup metaworld`)."""

from __future__ import annotations

import numpy as np
import pytest

from hivla.sim import EXTERNAL_SUITES, get_suite, make_env
from hivla.sim.adapters import BenchmarkUnavailableError
from hivla.sim.adapters.metaworld_suites import INSTRUCTIONS, MT10_TASKS, SAWYER
from hivla.sim.adapters.worker import resolve_python


def _need_metaworld():
    try:
        resolve_python(get_suite("metaworld-mt10"))
    except BenchmarkUnavailableError as exc:
        pytest.skip(f"MetaWorld is not set up here: {exc}")


def test_ml1_mt10_mt50_are_declared_with_instructions():
    assert [t.name for t in get_suite("metaworld-mt10").tasks] == list(MT10_TASKS)
    assert len(get_suite("metaworld-mt50").tasks) == 50 == len(INSTRUCTIONS)
    ml1 = [n for n in EXTERNAL_SUITES.names() if n.startswith("metaworld-ml1-")]
    assert len(ml1) == 50 and get_suite("metaworld-ml1-pick-place").tasks[0].instruction.startswith("pick up")
    seeds = [set(get_suite(n).heldout_seeds) | set(get_suite(n).train_seeds) for n in ml1]
    assert len(set().union(*seeds)) == sum(len(s) for s in seeds)  # no two suites share a seed
    suite = get_suite("metaworld-mt10")
    assert [suite.task_for(s).name for s in suite.heldout_seeds[:10]] == list(MT10_TASKS)


def test_sawyer_universal_mapping_follows_hivla_axes():
    # MetaWorld +y (away from the base) is hivla forward (+x); MetaWorld +x is hivla right (-y).
    u = SAWYER.to_universal(np.array([1.0, 0.5, -1.0, 1.0]))
    np.testing.assert_allclose(u, [0.005, -0.01, -0.01, 0, 0, 0, 1.0], atol=1e-7)
    np.testing.assert_allclose(SAWYER.from_universal(u), [1.0, 0.5, -1.0, 1.0], atol=1e-6)
    clipped = SAWYER.from_universal(np.array([0.5, 0, 0, 0.3, 0, 0, -1.0]))
    np.testing.assert_allclose(clipped, [0, 1.0, 0, -1.0])  # at most 1 cm per step; rotations dropped


def test_scripted_policies_solve_mt10_tasks_and_episodes_replay():
    _need_metaworld()
    env = make_env("metaworld-mt10", "sawyer", image_size=64)
    try:
        seeds = list(get_suite("metaworld-mt10").heldout_seeds[:3])  # reach, push, pick-place
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            first = obs["state"].copy()
            assert obs["images"]["front"].shape == (64, 64, 3) and obs["images"]["wrist"].shape == (64, 64, 3)
            while True:
                obs, _, terminated, truncated, info = env.step(env.scripted_action())
                if terminated or truncated:
                    break
            assert info["success"], f"{info['task_kinds']} from seed {seed}"
            np.testing.assert_array_equal(env.reset(seed=seed)[0]["state"], first)
        assert env.versions()["metaworld"] == "3.1.1"
    finally:
        env.close()


def test_collect_records_scripted_metaworld_episodes(tmp_path):
    _need_metaworld()
    from hivla.data.dataset import ChunkDataset, LoaderConfig
    from hivla.data.recorder import CollectConfig, collect

    out = collect(CollectConfig(out=tmp_path / "mw", suite="metaworld-ml1-reach", embodiment="sawyer",
                                episodes=2, image_size=64))  # fmt: skip
    assert out["episodes"] == 2 and out["dropped"] == 0
    item = ChunkDataset(tmp_path / "mw", LoaderConfig())[0]
    assert item["embodiment"] == "sawyer" and item["task"] == "reach the goal position"
    assert item["observation.privileged"].shape == (39,) and item["action"].shape[-1] == 4
