"""The world-model veto: passes safe chunks, resamples or truncates unsafe ones, counts each."""

import numpy as np
import pytest
import torch

from hivla.world_model.safety import VetoConfig, WorldModelVeto

from .conftest import build_model


class ScriptedChunks:
    """Returns the given chunks in turn (universal actions, B = 1)."""

    action_space = "universal"
    execute_steps = 4

    def __init__(self, *chunks):
        self.chunks = [np.asarray(c, np.float32) for c in chunks]
        self.calls = 0

    def sample_actions(self, obs):
        chunk = self.chunks[min(self.calls, len(self.chunks) - 1)]
        self.calls += 1
        return chunk[None]  # (1, H, 7)

    def reset(self):
        self.calls = 0


def chunk(dz=0.0, gripper=1.0, h=4):
    c = np.zeros((h, 7), np.float32)
    c[:, 2], c[:, 6] = dz, gripper
    return c


@pytest.fixture
def risky_model(episodes, monkeypatch):
    """A real (untrained) model whose event heads are replaced: a step is unsafe iff it moves down."""
    model = build_model("jepa", episodes).eval()
    e = len(model.config.events)

    def imagine_events(z, actions):
        zs = model.rollout(z, actions)
        down = (actions[..., 2] < -0.01).float()  # (B, H)
        probs = torch.zeros(*actions.shape[:2], e)
        probs[..., model.config.events.index("table_contact")] = 0.9 * down
        return zs, probs

    monkeypatch.setattr(model, "imagine_events", imagine_events)
    return model


def obs(episodes):
    ep = episodes[0]
    return {"images": {c: v[0] for c, v in ep.images.items()}, "state": ep.state[0], "instruction": "x"}


def test_safe_chunks_pass_unchanged(risky_model, episodes):
    veto = WorldModelVeto(ScriptedChunks(chunk(0.0)), risky_model)
    out = veto.sample_actions(obs(episodes))
    assert np.array_equal(out[0], chunk(0.0))
    assert veto.interventions["wm_checked"] == 1 and veto.interventions["wm_veto"] == 0


def test_unsafe_chunk_is_replaced_by_a_safe_resample(risky_model, episodes):
    policy = ScriptedChunks(chunk(-0.03), chunk(0.0))
    veto = WorldModelVeto(policy, risky_model, VetoConfig(resamples=2))
    out = veto.sample_actions(obs(episodes))
    assert np.array_equal(out[0], chunk(0.0))
    assert veto.interventions["wm_veto"] == 1 and veto.interventions["wm_resample"] == 1
    assert policy.calls == 2


def test_unsafe_steps_are_truncated_to_a_hold_that_keeps_the_gripper(risky_model, episodes):
    bad = chunk(0.0, gripper=1.0)
    bad[2:, 2] = -0.03  # steps 2, 3 move down
    veto = WorldModelVeto(ScriptedChunks(bad), risky_model, VetoConfig(resamples=1, max_holds=5))
    out = veto.sample_actions(obs(episodes))[0]
    assert np.array_equal(out[:2], bad[:2])
    assert np.all(out[2:, :6] == 0) and np.all(out[2:, 6] == 1.0)
    assert veto.interventions["wm_truncate"] == 1


def test_after_max_holds_the_safest_chunk_passes(risky_model, episodes):
    veto = WorldModelVeto(ScriptedChunks(chunk(-0.03)), risky_model, VetoConfig(resamples=0, max_holds=2))
    for _ in range(3):
        out = veto.sample_actions(obs(episodes))
    assert veto.interventions["wm_truncate"] == 2 and veto.interventions["wm_pass"] == 1
    assert np.array_equal(out[0], chunk(-0.03))


def test_only_the_executed_steps_are_checked(risky_model, episodes):
    late = chunk(0.0, h=8)
    late[6:, 2] = -0.03  # unsafe only after the 4 executed steps
    veto = WorldModelVeto(ScriptedChunks(late), risky_model)
    veto.sample_actions(obs(episodes))
    assert veto.interventions["wm_veto"] == 0
    assert veto.last_risk.shape == (1, 4)


def test_config_errors_say_what_to_do():
    with pytest.raises(ValueError, match="threshold"):
        VetoConfig(threshold=1.5)
    with pytest.raises(ValueError, match="subset"):
        VetoConfig(events=("explosion",))


def test_in_contact_the_veto_retreats_upwards(episodes, monkeypatch):
    """When every step that does not move up is unsafe, holding is no repair: move up instead."""
    model = build_model("jepa", episodes).eval()
    e = len(model.config.events)

    def imagine_events(z, actions):
        probs = torch.zeros(*actions.shape[:2], e)
        probs[..., model.config.events.index("collision")] = 0.9 * (actions[..., 2] < 0.01).float()
        return model.rollout(z, actions), probs

    monkeypatch.setattr(model, "imagine_events", imagine_events)
    veto = WorldModelVeto(ScriptedChunks(chunk(0.0, gripper=1.0)), model, VetoConfig(resamples=1))
    out = veto.sample_actions(obs(episodes))[0]
    assert np.all(out[:, 2] > 0) and np.all(out[:, 6] == 1.0)
    assert veto.interventions["wm_retreat"] == 1 and veto.interventions["wm_truncate"] == 0


def test_policy_sampling_names_what_resampling_can_change(tmp_path):
    from hivla.policies import load_rollout_policy
    from hivla.world_model.faults import FaultyExpert
    from hivla.world_model.safety import DeterministicPolicyError, policy_sampling, require_stochastic

    from ..policies.conftest import build, tiny_config

    for head, kind in (("flow", "stochastic"), ("diffusion", "stochastic"), ("l1", "deterministic"),
                       ("bins", "deterministic")):  # fmt: skip
        root = build(tiny_config("cnn", head)).save(tmp_path / head)
        flat = load_rollout_policy(str(root))
        hierarchical = load_rollout_policy(f"hierarchical:low={root},planner=oracle,monitor=oracle")
        assert policy_sampling(flat)[0] == policy_sampling(hierarchical)[0] == kind
    assert policy_sampling(FaultyExpert())[0] == "stochastic"
    assert policy_sampling(load_rollout_policy("expert"))[0] == "deterministic"
    assert policy_sampling(object())[0] == "unknown"
    with pytest.raises(DeterministicPolicyError, match="a vetoed chunk comes back unchanged"):
        require_stochastic(load_rollout_policy(str(tmp_path / "l1")))
    assert "flow" in require_stochastic(load_rollout_policy(str(tmp_path / "flow")))
