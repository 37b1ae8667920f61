"""Contract tests over every registered suite x embodiment."""

import numpy as np
import pytest

from hivla.registry import UnknownNameError
from hivla.sim import EMBODIMENTS, SUITES, ScriptedExpert, embodiments_of, make_env

COMBOS = [(s, e) for s in SUITES.names() for e in embodiments_of(s)]


@pytest.fixture(scope="module")
def envs():
    cache = {}

    def get(suite, emb):
        if (suite, emb) not in cache:
            cache[(suite, emb)] = make_env(suite, emb, render=False)
        return cache[(suite, emb)]

    yield get
    for env in cache.values():
        env.close()


def _poses(info):
    return {k: np.round(v, 6).tolist() for k, v in info["privileged"]["object_poses"].items()}


@pytest.mark.parametrize(("suite", "emb"), COMBOS)
def test_seeded_reset_is_deterministic(envs, suite, emb):
    env = envs(suite, emb)
    seed = SUITES.get(suite).heldout_seeds[3]
    obs1, info1 = env.reset(seed=seed)
    obs2, info2 = env.reset(seed=seed)
    assert obs1["instruction"] == obs2["instruction"]
    assert info1["subtasks"] == info2["subtasks"]
    assert _poses(info1) == _poses(info2)
    np.testing.assert_array_equal(obs1["state"], obs2["state"])
    assert obs1["state"].dtype == np.float32 and obs1["state"].shape == (env.embodiment.state_dim,)
    assert 1 <= info1["chain_length"] <= 5 and info1["chain_length"] in SUITES.get(suite).chain_lengths


@pytest.mark.parametrize(("suite", "emb"), COMBOS)
def test_state_round_trips(envs, suite, emb):
    env = envs(suite, emb)
    env.reset(seed=SUITES.get(suite).heldout_seeds[1])
    expert = ScriptedExpert(env)
    for _ in range(5):
        env.step(expert.act()[0])
    state = env.get_state()
    actions = [expert.act()[0] for _ in range(1)]
    actions += [env.action_space.sample() * 0.5 for _ in range(4)]
    first = [env.step(a)[0]["state"] for a in actions]
    env.set_state(state)
    second = [env.step(a)[0]["state"] for a in actions]
    np.testing.assert_allclose(np.stack(first), np.stack(second), atol=1e-9)


@pytest.mark.parametrize("emb", EMBODIMENTS.names())
def test_bad_actions_raise_clear_errors(envs, emb):
    env = envs("tabletop-single", emb)
    env.reset(seed=0)
    dim = env.embodiment.action_dim
    with pytest.raises(ValueError, match="NaN or inf"):
        env.step(np.full(dim, np.nan))
    with pytest.raises(ValueError, match="NaN or inf"):
        env.step(np.r_[np.zeros(dim - 1), np.inf])
    with pytest.raises(ValueError, match=rf"shape \({dim},\)"):
        env.step(np.zeros(dim + 1))


@pytest.mark.parametrize("emb", EMBODIMENTS.names())
def test_out_of_range_actions_are_clipped(envs, emb):
    """The action space says so: values beyond the limits act like the limits."""
    env = envs("tabletop-single", emb)
    env.reset(seed=0)
    state = env.get_state()
    big = env.action_space.high * 100
    after_big = env.step(big)[0]["state"]
    env.set_state(state)
    after_high = env.step(env.action_space.high)[0]["state"]
    np.testing.assert_allclose(after_big, after_high, atol=1e-9)


@pytest.mark.parametrize("emb", EMBODIMENTS.names())
def test_universal_round_trip(envs, emb):
    env = envs("tabletop-single", emb)
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        native = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32) * 0.3
        universal = env.to_universal(native)
        assert universal.shape == (env.embodiment.universal_dim,)
        # Universal -> native -> universal reproduces any universal action the embodiment can realise.
        np.testing.assert_allclose(
            env.embodiment.to_universal(env.from_universal(universal)), universal, atol=2e-4
        )


def test_unknown_names_list_the_options():
    with pytest.raises(UnknownNameError, match=r"available: .*tabletop-single"):
        make_env("tabletop-singel", "floating")
    with pytest.raises(UnknownNameError, match="Did you mean 'arm6'"):
        make_env("tabletop-single", "arm7")
    with pytest.raises(ValueError, match="image_size"):
        make_env("tabletop-single", "floating", image_size=32)


def test_observation_images_and_info():
    env = make_env("tabletop-mixed", "arm6", image_size=64, depth=True)
    try:
        obs, info = env.reset(seed=5)
        for cam in ("front", "wrist"):
            assert obs["images"][cam].shape == (64, 64, 3) and obs["images"][cam].dtype == np.uint8
            assert obs["images"][cam].std() > 5  # a real picture, not a blank
            assert obs["depth"][cam].shape == (64, 64)
        assert isinstance(obs["instruction"], str) and obs["instruction"].endswith(".")
        for key in ("subtasks", "subtask_index", "completed", "success", "progress", "privileged"):
            assert key in info
        assert set(info["privileged"]) >= {"object_poses", "grasped", "contacts"}
        assert info["privileged_vector"].dtype == np.float32
    finally:
        env.close()
