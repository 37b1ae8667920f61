"""The world-model experiment on a policy chosen by spec: a tiny (untrained) flow-head VLA feeds the
error/failure correlation per shift axis, runs with and without the veto, and as the low level of a
hierarchical policy with and without world-model-triggered replanning; a rerun reuses every
rollout; a deterministic head is refused for the veto before any rollout."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hivla.experiments.world_model_validation import run as ex
from hivla.experiments.world_model_validation.config import EXPERIMENT_PRESETS, ProbeConfig
from hivla.experiments.world_model_validation.replan import ARMS as REPLAN_ARMS
from hivla.experiments.world_model_validation.replan import ReplanEvalConfig
from hivla.experiments.world_model_validation.veto import VetoEvalConfig
from hivla.world_model.safety import DeterministicPolicyError

from ...policies.conftest import build, tiny_config


def save_vla(root, head: str) -> str:
    torch.manual_seed(0)
    build(tiny_config("cnn", head)).save(root)
    return str(root)


@pytest.fixture(scope="module")
def vlas(tmp_path_factory):
    root = tmp_path_factory.mktemp("vlas")
    return {head: save_vla(root / head, head) for head in ("flow", "l1")}


def small_spec(policy: str, veto_policy: str, hierarchical: str = ""):
    return dataclasses.replace(
        EXPERIMENT_PRESETS.get("debug"),
        probe=ProbeConfig(policy=policy, suite="tabletop-single", axes=("lighting",), levels=(2,), episodes=2,
                          bootstrap=100),
        veto=VetoEvalConfig(policy=veto_policy, suite="tabletop-single", episodes=1, conditions=("lighting=2",)),
        replan=ReplanEvalConfig(policy=hierarchical, suite="tabletop-single", episodes=1, conditions=("none",)),
        cem_episodes=0,
        frame_steps=2,
    )  # fmt: skip


def test_experiment_on_a_flow_vla_and_a_rerun_reuses_the_rollouts(trained, vlas, tmp_path, monkeypatch):
    flow = vlas["flow"]
    hierarchical = f"hierarchical:low={flow},planner=oracle,monitor=oracle"
    spec = small_spec(flow, flow, hierarchical)
    wm = str(trained["jepa"][0])
    out = tmp_path / "exp"
    results = ex.run_experiment([wm], spec, out, quiet=True)

    assert "flow action head" in results["policy"] and "stochastic" in results["policy"]
    corr = results["models"][0]["failure_correlation"]
    assert set(corr["by_axis"]) == {"in distribution", "lighting"}
    assert corr["episodes"] == 4 and corr["by_axis"]["lighting"]["episodes"] == 2
    assert corr["by_axis_with_in_distribution"]["lighting + in distribution"]["episodes"] == 4
    for group in (corr, *corr["by_axis"].values()):
        m = group["measures"]["mean error"]
        assert {"spearman", "ci95", "pearson", "pearson_ci95"} <= set(m)
    veto = results["veto"]
    assert [r["arm"] for r in veto["episodes"]] == ["policy", "policy+veto"]
    assert veto["episodes"][1]["interventions"]["wm_checked"] > 0 and "flow" in veto["resampling"]
    replan = results["replan"]
    assert [r["arm"] for r in replan["episodes"]] == list(REPLAN_ARMS)
    assert f"wm={wm}" in replan["arms"][REPLAN_ARMS[1]] and "wm=" not in replan["arms"][REPLAN_ARMS[0]]
    assert {"delta_success", "delta_progress"} <= set(replan["summary"]["none"])

    html = (out / "report.html").read_text()
    assert 'data-plot="replan-success"' in html and "Error vs failure per shift axis" in html
    summary = (out / "summary.md").read_text()
    assert "Pearson r" in summary and "hierarchical+wm-replan" in summary

    def no_rollouts(*args, **kwargs):
        raise AssertionError("the rerun should reuse the saved rollouts")

    monkeypatch.setattr("hivla.world_model.sources.collect_episodes", no_rollouts)
    monkeypatch.setattr("hivla.utils.pool.run_pool", no_rollouts)
    again = ex.run_experiment([wm], spec, out, quiet=True)
    assert again["veto"]["reused"] == 2 and again["replan"]["reused"] == 2
    assert again["models"][0]["failure_correlation"]["errors"] == corr["errors"]
    assert json.loads((out / "results.json").read_text())["veto"]["episodes"] == veto["episodes"]


def test_the_veto_refuses_a_deterministic_head_before_any_rollout(trained, vlas, tmp_path):
    spec = small_spec(vlas["l1"], f"hierarchical:low={vlas['l1']},planner=oracle,monitor=oracle")
    with pytest.raises(DeterministicPolicyError, match=r"resampling: the l1 action head.*or --no-veto"):
        ex.run_experiment([str(trained["jepa"][0])], spec, tmp_path / "exp", quiet=True)
    assert not (tmp_path / "exp" / "cache").exists()
    # without the veto the same deterministic policy feeds the correlation
    spec = dataclasses.replace(spec, run_veto=False)
    spec = dataclasses.replace(spec, probe=dataclasses.replace(spec.probe, axes=("camera",)))
    results = ex.run_experiment([str(trained["jepa"][0])], spec, tmp_path / "exp", quiet=True)
    assert results["veto"] is None and "deterministic" in results["policy"]


def test_replanning_calibrates_its_threshold_first_and_a_rerun_reuses_it(trained, tmp_path, monkeypatch):
    from hivla.experiments.world_model_validation.replan import run_replan_eval
    from hivla.experiments.world_model_validation.report import calibration_text

    wm = str(trained["jepa"][0])
    cfg = ReplanEvalConfig(
        policy="hierarchical:low=subtask-expert,planner=oracle,monitor=oracle", suite="tabletop-single",
        episodes=1, conditions=("none",), calibration_episodes=2,
    )  # fmt: skip
    out = run_replan_eval(wm, cfg, cache_dir=tmp_path / "cache")
    c = out["calibration"]
    assert c["episodes"] == 2 and c["seeds"][0] > 0 and c["reused"] == 0
    # the expert finishes every subtask: nothing separates failed from successful attempts, so the
    # threshold stays as given and the report says why
    assert c["success"] == 1.0 and c["failed_attempts"] == 0 and c["attempts"] >= 2 and c["threshold"] is None
    assert out["config"]["threshold"] == cfg.threshold and "was not possible" in calibration_text(out)
    assert [r["arm"] for r in out["episodes"]] == list(REPLAN_ARMS)

    def no_rollouts(*args, **kwargs):
        raise AssertionError("the rerun should reuse the calibration and evaluation episodes")

    monkeypatch.setattr("hivla.utils.pool.run_pool", no_rollouts)
    again = run_replan_eval(wm, cfg, cache_dir=tmp_path / "cache")
    assert again["calibration"]["reused"] == 2 and again["reused"] == 2
    # the arm without the trigger does not depend on the threshold: another threshold reuses its rows
    monkeypatch.undo()
    other = run_replan_eval(
        wm, dataclasses.replace(cfg, calibration_episodes=0, threshold=0.3), cache_dir=tmp_path / "cache"
    )
    assert other["calibration"] is None and other["config"]["threshold"] == 0.3 and other["reused"] == 1
