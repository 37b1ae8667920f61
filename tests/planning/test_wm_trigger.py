"""World-model-triggered replanning: the trigger fires on a world model that always predicts failure,
never on one that predicts success, within the hierarchy's retry/replan budget; the spec keys."""

from __future__ import annotations

import pytest
import torch

from hivla.evaluation import EvalConfig, evaluate
from hivla.planning import OraclePlanner
from hivla.planning.hierarchical import HierarchicalPolicy, HierarchyConfig
from hivla.planning.skills import SubtaskExpertPolicy
from hivla.planning.spec import HierarchicalSpec, HierarchicalSpecError
from hivla.planning.wm_trigger import (
    RecordingReplanTrigger,
    ReplanTriggerConfig,
    WorldModelReplanTrigger,
    attempt_predictions,
    attempt_score,
    calibrate_threshold,
)
from hivla.world_model import save_world_model

from ..world_model.conftest import build_model, episodes  # noqa: F401  (the fixture)


def hand_made(episodes, succeeds: bool):  # noqa: F811
    """A world model whose predicted subtask success is 1 (``succeeds``) or 0 whatever it sees: the
    outcome head and the subtask_done event head are set to constant logits."""
    model = build_model("jepa", episodes)
    done = model.config.events.index("subtask_done")
    with torch.no_grad():
        for net in (model.heads.outcome_net, model.heads.event_net):
            net[-1].weight.zero_()
            net[-1].bias.fill_(-30.0)
        model.heads.outcome_net[-1].bias.fill_(30.0 if succeeds else -30.0)
        model.heads.event_net[-1].bias[done] = -30.0
    return model.eval()


def run(policy, suite="tabletop-chain-2"):
    return evaluate(EvalConfig(suite=suite, episodes=1, videos=0, image_size=64), policy=policy)


def test_hand_made_models_predict_what_they_were_made_to(episodes):  # noqa: F811
    ep = episodes[0]
    obs = {"images": {c: v[0] for c, v in ep.images.items()}, "state": ep.state[0]}
    chunk = ep.action[None, :4]  # (1, 4, 7) universal actions, the models' space
    for succeeds, expected in ((True, 1.0), (False, 0.0)):
        trigger = WorldModelReplanTrigger(hand_made(episodes, succeeds), ReplanTriggerConfig(patience=1))
        trigger._execute_steps = 4
        assert trigger.predict(obs, chunk) == pytest.approx(expected, abs=1e-6)
        assert trigger.check(obs, chunk) is not succeeds


def test_trigger_fires_when_failure_is_predicted_and_never_otherwise(episodes):  # noqa: F811
    cfg = HierarchyConfig(max_retries=1, max_replans=2)
    plain = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy(), cfg=cfg)
    base = run(plain).episodes[0]

    trigger = WorldModelReplanTrigger(hand_made(episodes, succeeds=True), ReplanTriggerConfig(patience=1))
    never = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy(), cfg=cfg, trigger=trigger)
    record = run(never).episodes[0]
    assert trigger.fired == 0 and trigger.last_prob is not None and trigger.last_prob > 0.99
    assert "wm_predicted_failure" not in [e for e, _ in never.history]
    assert (record.success, record.steps) == (base.success, base.steps)  # a silent trigger changes nothing

    trigger = WorldModelReplanTrigger(hand_made(episodes, succeeds=False), ReplanTriggerConfig(patience=2))
    always = HierarchicalPolicy(OraclePlanner(), SubtaskExpertPolicy(), cfg=cfg, trigger=trigger)
    run(always)
    events = [e for e, _ in always.history]
    # every chunk is predicted to fail: after 2 chunks in a row, retry; then replan, until the
    # budget is spent (1 retry per plan and per finished subtask, 2 replans); then it stays quiet
    assert events.count("wm_predicted_failure") == trigger.fired >= 5
    assert always.replans == 2 and len(always.plans) == 3 and not always._can_recover()
    assert events.count("failed") >= trigger.fired  # each firing is handled as a failure


def test_spec_keys_build_the_trigger(episodes, tmp_path):  # noqa: F811
    wm = tmp_path / "wm"
    save_world_model(hand_made(episodes, succeeds=False), wm)
    spec = HierarchicalSpec.parse(f"hierarchical:low=subtask-expert,wm={wm},wm_threshold=0.35,wm_patience=3")
    assert (spec.wm, spec.wm_threshold, spec.wm_patience) == (str(wm), 0.35, 3)
    assert HierarchicalSpec.parse(spec.to_string()) == spec
    policy = spec.build()
    assert policy.trigger.config == ReplanTriggerConfig(threshold=0.35, patience=3) and policy.needs_images
    assert HierarchicalSpec.parse("hierarchical:low=subtask-expert").build().trigger is None
    with pytest.raises(HierarchicalSpecError, match="wm_threshold"):
        HierarchicalSpec.parse(f"hierarchical:low=subtask-expert,wm={wm},wm_threshold=1.5")
    with pytest.raises(HierarchicalSpecError, match="must be a number"):
        HierarchicalSpec.parse(f"hierarchical:low=subtask-expert,wm={wm},wm_threshold=high")
    with pytest.raises(HierarchicalSpecError, match="no such directory"):
        HierarchicalSpec.parse(f"hierarchical:low=subtask-expert,wm={tmp_path / 'missing'}")


def test_attempts_are_cut_at_done_and_failed_events_and_at_the_episode_end():
    history = [("done", "pick a"), ("failed", "place a"), ("wm_predicted_failure", "x"), ("done", "place a")]
    records = [(0, 0.9), (0, 0.8), (1, 0.3), (2, 0.2), (2, 0.25), (3, 0.6), (4, 0.5)]
    attempts = attempt_predictions(records, history, success=False)
    # predictions made before the k-th done/failed event belong to that attempt; the last is unfinished
    assert attempts == [([0.9, 0.8], False), ([0.3], True), ([0.2, 0.25, 0.6], False), ([0.5], True)]
    assert attempt_predictions(records, history, success=True)[-1] == ([0.5], False)


def test_attempt_score_is_the_highest_threshold_that_does_not_fire():
    assert attempt_score([0.9, 0.1, 0.3, 0.8, 0.2], patience=2) == 0.3  # (0.1, 0.3) fires above 0.3
    assert attempt_score([0.9, 0.1, 0.3], patience=1) == 0.1
    assert attempt_score([0.4], patience=2) == float("inf")  # too few predictions to ever fire


def test_calibration_separates_failed_from_successful_attempts():
    failed = [([0.5, 0.1, 0.12], True), ([0.2, 0.15], True), ([0.9, 0.3, 0.35], True)]
    succeeded = [([0.6, 0.5, 0.55], False), ([0.8, 0.7], False), ([0.25, 0.28, 0.9], False)]
    c = calibrate_threshold(failed + succeeded, patience=2)
    # scores: failed 0.12, 0.2, 0.35; succeeded 0.55, 0.8, 0.28 -> firing below 0.35+ catches every
    # failure and one success (J 2/3); below 0.2+ two failures, no success (J 2/3): the lower wins the tie
    assert c["threshold"] == pytest.approx(0.2, abs=1e-5) and c["j"] == pytest.approx(2 / 3)
    assert (c["tpr"], c["fpr"], c["attempts"], c["failed_attempts"]) == (pytest.approx(2 / 3), 0.0, 6, 3)
    assert c["auroc"] == pytest.approx(8 / 9)  # 8 of the 9 (failed, succeeded) pairs ordered right
    with pytest.raises(ValueError, match="needs failed and successful attempts"):
        calibrate_threshold(succeeded, patience=2)


def test_a_recording_trigger_never_fires_and_keeps_every_prediction(episodes):  # noqa: F811
    model, cfg = hand_made(episodes, succeeds=False), ReplanTriggerConfig(patience=1)
    policy = HierarchicalPolicy(
        OraclePlanner(), SubtaskExpertPolicy(), trigger=WorldModelReplanTrigger(model, cfg)
    )
    policy.trigger = RecordingReplanTrigger(model, cfg, policy)
    record = run(policy, suite="tabletop-single").episodes[0]
    assert policy.trigger.fired == 0 and "wm_predicted_failure" not in [e for e, _ in policy.history]
    assert len(policy.trigger.records) > 1 and all(p < 1e-6 for _, p in policy.trigger.records)
    attempts = attempt_predictions(policy.trigger.records, policy.history, record.success)
    assert sum(len(p) for p, _ in attempts) == len(policy.trigger.records)
