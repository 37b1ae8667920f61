"""`hivla experiment world-model`: the policy is required and every override reaches the spec."""

import pytest

from hivla.cli.experiment_world_model import Config, spec
from hivla.world_model.config import FAULTY_EXPERT


def test_policy_is_required_and_names_the_labelled_expert():
    with pytest.raises(ValueError, match="faulty-expert for the scripted expert with injected faults"):
        Config(runs=("runs/wm",))


def test_overrides_reach_the_probe_veto_and_replanning():
    h = "hierarchical:low=subtask-expert,planner=oracle,monitor=oracle"
    s = spec(Config(runs=("runs/wm",), policy="runs/vla-l1", veto_policy=FAULTY_EXPERT, hierarchical=h,
                    axes=("lighting", "object_colour"), levels=(1, 3), replan_episodes=7, wm_threshold=0.4,
                    wm_patience=3, veto_events=("object_out",), preset="debug", workers=2,
                    suite="tabletop-chain-3"))  # fmt: skip
    assert (s.probe.policy, s.probe.axes, s.probe.levels) == (
        "runs/vla-l1",
        ("lighting", "object_colour"),
        (1, 3),
    )
    assert s.veto.policy == FAULTY_EXPERT and s.veto.veto.events == ("object_out",)
    assert (s.replan.policy, s.replan.episodes, s.replan.threshold, s.replan.patience) == (h, 7, 0.4, 3)
    assert s.probe.workers == s.veto.workers == s.replan.workers == 2
    assert s.probe.suite == s.veto.suite == s.replan.suite == "tabletop-chain-3"
    default = spec(Config(runs=("runs/wm",), policy="runs/vla-flow", preset="debug"))
    assert default.veto.policy == "runs/vla-flow" and default.replan.policy == ""
