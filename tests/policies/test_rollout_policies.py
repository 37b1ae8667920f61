import numpy as np
import pytest

from hivla.policies import (
    ActionSpaceError,
    PolicyAdapter,
    PolicyLoadError,
    as_rollout_policy,
    check_compatible,
    load_rollout_policy,
    rollout_policy_names,
)
from hivla.sim import EMBODIMENTS


@pytest.mark.parametrize("name", [n for n in rollout_policy_names() if not n.endswith(":")])
@pytest.mark.parametrize("emb", EMBODIMENTS.names())
def test_every_builtin_drives_every_embodiment(name, emb, single_envs):
    env = single_envs(emb)
    obs, _ = env.reset(seed=1_000_000)
    if name == "subtask-expert":  # it reads one canonical subtask, as a hierarchical policy gives it
        obs = {**obs, "instruction": env.spec.subtasks[0].text}
    policy = load_rollout_policy(name)
    check_compatible(policy, emb)
    policy.start_episode(env, 1_000_000)
    policy.reset()
    chunk = np.asarray(policy.sample_actions(obs))
    assert chunk.shape == (1, 1, env.embodiment.action_dim) and chunk.dtype == np.float32
    assert np.all(np.isfinite(chunk))
    assert env.action_space.contains(chunk[0, 0])
    assert set(policy.describe()) >= {"name", "action_space", "embodiments", "action_dim"}


def test_unknown_policy_lists_what_exists():
    with pytest.raises(PolicyLoadError, match=r"expert, random.*run/checkpoint directory"):
        load_rollout_policy("expret")


def test_module_factory_spec():
    policy = load_rollout_policy("hivla.policies.builtin:RandomPolicy")
    assert policy.name == "random"
    with pytest.raises(PolicyLoadError, match="cannot import"):
        load_rollout_policy("hivla.policies.builtin:Nope")


def test_native_policy_for_another_embodiment_is_refused(constant_policy):
    arm6 = as_rollout_policy(
        constant_policy(np.zeros(7), action_dim=7, embodiments=("arm6",)), name="arm6-vla"
    )
    check_compatible(arm6, "arm6")
    with pytest.raises(ActionSpaceError) as err:
        check_compatible(arm6, "floating")
    msg = str(err.value)
    assert "arm6-vla" in msg and "'floating'" in msg and "--embodiment arm6" in msg and "universal" in msg


def test_native_dim_mismatch_without_declared_embodiment(constant_policy):
    policy = as_rollout_policy(constant_policy(np.zeros(6), action_dim=6))
    check_compatible(policy, "arm5")
    with pytest.raises(ActionSpaceError, match=r"size 6.*'floating' takes 5 values"):
        check_compatible(policy, "floating")


def test_universal_policy_checks(constant_policy):
    anywhere = as_rollout_policy(constant_policy(np.zeros(7), action_space="universal"))
    for emb in EMBODIMENTS.names():
        check_compatible(anywhere, emb)
    trained = as_rollout_policy(
        constant_policy(np.zeros(7), action_space="universal", embodiments=("floating", "arm6"))
    )
    with pytest.raises(ActionSpaceError, match="proprioception"):
        check_compatible(trained, "arm5")
    wrong = as_rollout_policy(constant_policy(np.zeros(5), action_space="universal", action_dim=5))
    with pytest.raises(ActionSpaceError, match="universal actions have 7"):
        check_compatible(wrong, "floating")


def test_adapter_reads_config_and_does_not_mutate_obs(single_envs):
    class Config:
        action_space, embodiments, action_dim, horizon, image_size = "native", ("floating",), 5, 4, 32

    class Seen:
        config = Config()

        def sample_actions(self, obs):
            self.obs = obs
            return np.zeros((1, 4, 5), np.float32)

        def reset(self):
            pass

    inner = Seen()
    adapter = PolicyAdapter(inner, "seen")
    assert (adapter.embodiments, adapter.action_dim, adapter.execute_steps, adapter.image_size) == (
        ("floating",), 5, 4, 32,
    )  # fmt: skip
    env = single_envs("floating")
    obs, _ = env.reset(seed=1_000_001)
    adapter.start_episode(env, 1_000_001)
    adapter.sample_actions(obs)
    assert inner.obs["embodiment"] == "floating" and "embodiment" not in obs
    with pytest.raises(TypeError, match="sample_actions"):
        PolicyAdapter(object())
