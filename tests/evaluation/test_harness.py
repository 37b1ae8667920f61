"""Harness correctness: the expert's success matches the plain rollout loop, random scores near 0,
seeds replay exactly (in and across processes), and the action stack converts, filters and stops."""

import dataclasses

import numpy as np
import pytest

from hivla.evaluation import EvalConfig, evaluate
from hivla.evaluation.agent import Agent, Execution
from hivla.evaluation.reference import RolloutConfig, iter_rollouts
from hivla.evaluation.runner import run_episode
from hivla.policies import ActionSpaceError, as_rollout_policy
from hivla.sim import make_env
from hivla.utils.video import read_mp4


def _by_seed(records):
    return {r.seed: (bool(r.success), r.completed, r.steps) for r in records}


@pytest.mark.parametrize(
    ("suite", "emb", "n"), [("tabletop-single", "floating", 4), ("tabletop-chain-2", "arm5", 2)]
)
def test_expert_reproduces_the_plain_rollout(suite, emb, n):
    reference = list(iter_rollouts(RolloutConfig(suite=suite, embodiment=emb, policy="expert", episodes=n)))
    results = evaluate(EvalConfig(policy="expert", suite=suite, embodiment=emb, episodes=n, videos=0))
    assert _by_seed(results.episodes) == _by_seed(reference)
    expected = sum(r.success for r in reference) / n
    assert results.metrics["overall"]["success"] == expected >= 0.5
    assert results.metrics["safety"]["safety_stops"]["count"] == 0


def test_random_policy_scores_near_zero():
    results = evaluate(EvalConfig(policy="random", episodes=6, videos=0))
    overall = results.metrics["overall"]
    assert overall["successes"] <= 1 and overall["success_ci95"][1] < 0.65
    assert sum(r["count"] for r in results.metrics["failures"].values()) == 6 - overall["successes"]


def test_same_seed_same_episode_in_process(noise_policy):
    env = make_env("tabletop-single", "floating", image_size=64)
    agent = Agent(as_rollout_policy(noise_policy()), env, Execution(execute_steps=2))
    try:
        first, frames_a = run_episode(env, agent, 1_000_003, record=True)
        run_episode(env, agent, 1_000_004)  # another episode in between moves the global RNG
        second, frames_b = run_episode(env, agent, 1_000_003, record=True)
    finally:
        env.close()
    assert first.to_dict() == second.to_dict() and len(frames_a) == len(frames_b)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(frames_a, frames_b, strict=True))


def test_same_seed_same_episode_across_worker_processes():
    cfg = EvalConfig(policy="random", episodes=3, videos=0, max_steps=15)
    serial = evaluate(cfg)
    parallel = evaluate(dataclasses.replace(cfg, workers=2))
    assert [e.to_dict() for e in serial.episodes] == [e.to_dict() for e in parallel.episodes]


def test_mismatched_policy_object_fails_before_any_rollout(constant_policy):
    policy = constant_policy(np.zeros(7), action_dim=7, embodiments=("arm6",))
    with pytest.raises(ActionSpaceError, match="cannot drive embodiment 'floating'"):
        evaluate(EvalConfig(embodiment="floating", episodes=1, videos=0), policy=policy)
    assert policy.queries == 0


def test_undeclared_wrong_action_size_is_caught_at_the_first_step(constant_policy):
    with pytest.raises(ActionSpaceError, match=r"size 7.*'floating' takes 5"):
        evaluate(EvalConfig(episodes=1, videos=0), policy=constant_policy(np.zeros(7)))


def test_policy_objects_stay_in_process(constant_policy):
    with pytest.raises(ValueError, match="workers=1"):
        evaluate(EvalConfig(episodes=2, workers=2), policy=constant_policy(np.zeros(5)))


@pytest.mark.parametrize("emb", ["arm5", "arm6"])
def test_universal_actions_are_converted_then_filtered(emb, constant_policy):
    down_close = np.array([0.0, 0.0, -0.01, 0.0, 0.0, 0.0, 1.0], np.float32)
    env = make_env("tabletop-single", emb, render=False)
    policy = as_rollout_policy(constant_policy(down_close, horizon=4, action_space="universal"))
    agent = Agent(policy, env, Execution(execute_steps=4))
    try:
        obs, _ = env.reset(seed=1_000_000)
        agent.start(1_000_000)
        native = agent.act(obs)
        assert native.shape == (env.embodiment.action_dim,)
        np.testing.assert_allclose(native, env.from_universal(down_close), atol=1e-6)
        record, _ = run_episode(env, agent, 1_000_000)
    finally:
        env.close()
    assert record.queries == -(-record.steps // 4)  # one query per 4 executed steps
    assert not record.success and record.failure is not None


def test_nan_actions_latch_the_estop_and_end_the_episode(constant_policy):
    nan = np.full(5, np.nan, np.float32)
    results = evaluate(EvalConfig(episodes=1, videos=0, estop_after_nonfinite=3), policy=constant_policy(nan))
    ep = results.episodes[0]
    assert ep.safety_stop and ep.failure == "safety_stop" and ep.interventions["nonfinite"] == 3
    assert ep.steps == 2  # the third NaN action stops the robot before it is executed
    assert results.metrics["safety"]["safety_stops"]["count"] == 1


def test_shift_conditions_share_seeds_and_videos_are_kept(tmp_path):
    results = evaluate(
        EvalConfig(policy="random", episodes=2, shifts=("lighting=2",), image_size=64, videos=1, max_steps=12)
    )
    assert [(e.condition, e.seed) for e in results.episodes] == [
        ("none", 1_000_000), ("none", 1_000_001), ("lighting=2", 1_000_000), ("lighting=2", 1_000_001),
    ]  # fmt: skip
    assert set(results.metrics["by_shift"]) == {"none", "lighting=2"}
    videos = [e for e in results.episodes if e.video is not None]
    assert len(videos) == 1 and not videos[0].success
    path = tmp_path / "v.mp4"
    path.write_bytes(videos[0].video)
    frames = read_mp4(path)
    assert frames.shape[2] == 256 and len(frames) == videos[0].steps + 1 + 10 - 1


def test_evaluate_or_reuse_reuses_only_a_matching_saved_evaluation(tmp_path):
    from hivla.evaluation import evaluate_or_reuse

    cfg = EvalConfig(policy="random", episodes=2, videos=0, max_steps=5)
    first, reused = evaluate_or_reuse(cfg, tmp_path)
    assert not reused and (tmp_path / "results.json").is_file()
    again, reused = evaluate_or_reuse(dataclasses.replace(cfg, workers=2), tmp_path)  # workers: not identity
    assert reused and [e.seed for e in again.episodes] == [e.seed for e in first.episodes]
    more, reused = evaluate_or_reuse(dataclasses.replace(cfg, episodes=3), tmp_path)
    assert not reused and len(more.episodes) == 3
    shifted, reused = evaluate_or_reuse(
        dataclasses.replace(cfg, episodes=3, shifts=("lighting=1",)), tmp_path
    )
    assert not reused and {e.condition for e in shifted.episodes} == {"none", "lighting=1"}
    _, reused = evaluate_or_reuse(dataclasses.replace(cfg, episodes=3, shifts=("lighting=1",)), tmp_path)
    assert reused  # shifts saved as a list, asked as a tuple: the same evaluation
