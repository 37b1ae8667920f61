"""Outcome prediction, the implicit reward and CEM planning on a small trained model."""

import numpy as np
import torch

from hivla.world_model.outcome import OutcomeMonitor, OutcomePredictor
from hivla.world_model.planning import CEMConfig, CEMPlanner, CEMPolicy, CEMRefiner
from hivla.world_model.reward import LatentGoalReward, SubtaskGoals


def obs_at(ep, t):
    return {"images": {c: v[t] for c, v in ep.images.items()}, "state": ep.state[t], "instruction": "x"}


def test_outcome_prediction_is_a_probability_per_chunk(trained, episodes):
    _, model = trained["jepa"]
    ep = episodes[4]
    chunks = np.stack([ep.action[:4], np.zeros((4, 7), np.float32)])  # (2, 4, 7)
    p = OutcomePredictor(model).predict(obs_at(ep, 0), chunks)
    assert p.shape == (2,) and np.all((p >= 0) & (p <= 1))


def test_outcome_monitor_passes_chunks_through(trained, episodes):
    _, model = trained["jepa"]

    class Fixed:
        action_space = "universal"

        def sample_actions(self, obs):
            return episodes[4].action[None, :4]

        def reset(self):
            pass

    mon = OutcomeMonitor(Fixed(), model)
    out = mon.sample_actions(obs_at(episodes[4], 0))
    assert np.array_equal(out, episodes[4].action[None, :4])
    assert 0.0 <= mon.last_success_prob <= 1.0


def test_implicit_reward_prefers_the_chunk_that_reaches_the_goal(trained, episodes):
    _, model = trained["latent"]
    ep = episodes[4]
    reward = LatentGoalReward(model)
    with torch.no_grad():
        z0 = model.encode(obs_at(ep, 0))
        good = torch.from_numpy(ep.action[None, :6])
        reward.set_goal_latent(model.rollout(z0, good)[0, -1])
    bad = np.zeros((1, 6, 7), np.float32)
    bad[..., 0] = 0.03  # sideways instead
    r_good, r_bad = reward(obs_at(ep, 0), good.numpy())[0], reward(obs_at(ep, 0), bad)[0]
    assert r_good > r_bad and abs(r_good) < 1e-6


def test_subtask_goals_come_from_completed_subtasks(trained, episodes):
    _, model = trained["jepa"]
    goals = SubtaskGoals.fit(model, episodes)
    assert goals.goals and all(g.shape == (model.latent_size,) for g in goals.goals.values())
    kind = sorted(goals.goals)[0]
    r = goals.reward(model, kind)(obs_at(episodes[0], 0), episodes[0].action[None, :4])
    assert r.shape == (1,) and np.isfinite(r).all()


def test_cem_lowers_the_goal_cost(trained, episodes):
    _, model = trained["jepa"]
    ep = episodes[4]
    planner = CEMPlanner(model, CEMConfig(horizon=4, samples=32, elites=4, iterations=3, risk_weight=0.0))
    with torch.no_grad():
        z0 = model.encode(obs_at(ep, 0))
        planner.goal = model.rollout(z0, torch.from_numpy(ep.action[None, :4]))[0, -1]
        zero = torch.zeros(1, 4, 7)
        zero[..., 6] = float(ep.action[0, 6])
        start_cost = float(planner.cost(z0, zero, None)[0])
    chunk, info = planner.plan(z0)
    assert chunk.shape == (4, 7)
    assert info["cost"] < start_cost
    assert np.all(chunk >= planner.low.numpy() - 1e-6) and np.all(chunk <= planner.high.numpy() + 1e-6)


def test_cem_policy_and_refiner_emit_chunks(trained, episodes):
    _, model = trained["jepa"]
    ep = episodes[4]
    cfg = CEMConfig(horizon=4, samples=16, elites=4, iterations=2)
    policy = CEMPolicy(model, cfg, execute_steps=2)
    policy.set_goal_observation(obs_at(ep, 5))
    assert policy.sample_actions(obs_at(ep, 0)).shape == (1, 4, 7)
    assert policy.sample_actions(obs_at(ep, 1)).shape == (1, 4, 7)  # warm start

    class Proposal:
        action_space = "universal"
        execute_steps = 4

        def sample_actions(self, obs):
            return ep.action[None, :4]

        def reset(self):
            pass

    refiner = CEMRefiner(Proposal(), model, cfg)
    assert refiner.sample_actions(obs_at(ep, 0)).shape == (1, 4, 7)


def test_runtime_config_stacks_the_wrappers(trained, episodes):
    from hivla.world_model.outcome import OutcomeMonitor
    from hivla.world_model.runtime import WorldModelRuntime, wrap_policy
    from hivla.world_model.safety import WorldModelVeto

    run, model = trained["jepa"]
    ep = episodes[4]

    class Proposal:
        action_space = "universal"
        execute_steps = 4

        def sample_actions(self, obs):
            return ep.action[None, :4]

        def reset(self):
            pass

    runtime = WorldModelRuntime(
        str(run), refine=CEMConfig(horizon=4, samples=8, elites=2, iterations=1), monitor_outcome=True
    )
    policy = wrap_policy(Proposal(), runtime, model=model)
    assert isinstance(policy, OutcomeMonitor) and isinstance(policy.policy, WorldModelVeto)
    assert isinstance(policy.policy.policy, CEMRefiner)
    assert policy.sample_actions(obs_at(ep, 0)).shape == (1, 4, 7)
    assert policy.policy.interventions["wm_checked"] == 1 and len(policy.history) == 1
