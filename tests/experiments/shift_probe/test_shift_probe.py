"""The shift probe end to end in seconds: built-in low levels, a few-step learned planner and a tiny
reasoning VLA, one episode per condition, one shift axis."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hivla.evaluation import EvalConfig, evaluate
from hivla.experiments.shift_probe import ProbeConfig, run_probe
from hivla.experiments.shift_probe.attribution import offset_error_cm, parse_reasoning
from hivla.experiments.shift_probe.probe import ProbePolicy, stack, trace_seam, variants
from hivla.experiments.shift_probe.report import summary_markdown
from hivla.policies import FitData, VLAPolicy, VLAProcessor, as_rollout_policy, load_rollout_policy
from hivla.policies.vla.reasoning import ReasoningConfig

from ...policies.conftest import fit_data, tiny_config
from ...policies.test_reasoning import TRACES


@pytest.fixture(scope="module")
def planner(tmp_path_factory) -> str:
    """A learned planner trained for 3 steps: its plans are wrong."""
    from hivla.planning.evaluate import training_corpus
    from hivla.planning.learned import LearnedPlanner, PlannerConfig

    root = tmp_path_factory.mktemp("planner")
    model = LearnedPlanner(PlannerConfig(features="learned", steps=3, batch_size=8))
    model.fit(training_corpus(16, max_chain=2))
    model.save(root)
    return str(root)


def _expert_traces(suite: str = "tabletop-chain-2", steps: int = 200) -> list[str]:
    """The expert's reasoning over the first held-out episode (the one the tests evaluate)."""
    from hivla.sim import SUITES, ScriptedExpert, make_env

    env = make_env(suite, "floating", image_size=64, render=False)
    obs, info = env.reset(seed=SUITES.get(suite).heldout_seeds[0])
    expert, texts = ScriptedExpert(env), []
    for _ in range(steps):
        action, note = expert.act(obs, info)
        texts.append(note.text())
        obs, _, term, trunc, info = env.step(action)
        if term or trunc:
            break
    env.close()
    return texts


@pytest.fixture(scope="module")
def reasoning_vla(tmp_path_factory) -> str:
    """An untrained reasoning VLA saved as a checkpoint (it writes traces; its actions go nowhere),
    its trace vocabulary fitted on the evaluated episode's targets and phases."""
    cfg = dataclasses.replace(tiny_config("cnn", "l1"), reasoning=ReasoningConfig(enabled=True))
    torch.manual_seed(0)
    base = fit_data(cfg)
    traces = (*TRACES, *_expert_traces())
    policy = VLAPolicy(cfg, VLAProcessor.fit(cfg, FitData(base.states, base.chunks, traces)))
    root = tmp_path_factory.mktemp("vla") / "ckpt"
    policy.save(root)
    return str(root)


def _probe(out, policies, **kw) -> ProbeConfig:
    return ProbeConfig(out=str(out), policies=tuple(policies), suite="tabletop-chain-2", episodes=1,
                       axes=("lighting",), levels=(3,), max_steps=kw.pop("max_steps", 40), **kw)  # fmt: skip


def test_a_wrong_plan_is_named_planning_by_both_methods_and_reruns_reuse(tmp_path, planner) -> None:
    cfg = _probe(tmp_path, [f"hierarchical:low=subtask-expert,planner=learned:{planner}"], videos=1)
    lines: list[str] = []
    results = run_probe(cfg, log=lines.append)
    p = results["policies"]["hierarchical"]
    assert p["parts"] == {"plan": "learned", "trace": "oracle", "locate": "none"} and p["variants"] == [
        "as_is",
        "oracle_plan",
    ]
    failures = [f for c in p["conditions"].values() for f in c["failures"]]
    assert failures, "a 3-step planner should fail these episodes"
    for f in failures:  # the oracle plan recovers each, and the log shows the plan was wrong
        assert f["recovered"] == {"oracle_plan": True}
        assert f["substitution"]["part"] == f["diagnosis"]["part"] == "planning"
    assert p["agreement"]["same"]["rate"] == 1.0 and set(p["by_axis"]) == {"none", "lighting"}
    assert p["by_axis"]["lighting"]["substitution"]["planning"]["count"] == len(
        p["conditions"]["lighting=3"]["failures"]
    )
    summary = (tmp_path / "summary.md").read_text()
    assert "| lighting |" in summary and "oracle_plan recovers" in summary
    assert "| all conditions |" in summary
    report = (tmp_path / "report.html").read_text()
    assert 'data-plot="attribution-hierarchical-diagnosis"' in report and "<video" in report  # a kept failure
    assert json.loads((tmp_path / "results.json").read_text())["policies"]
    assert (tmp_path / "hierarchical" / "as_is" / "lighting3" / "probe.json").is_file()

    lines.clear()
    again = run_probe(cfg, log=lines.append)  # every condition finished: nothing is re-run
    assert all("reused" in line for line in lines) and len(lines) == 2
    assert again["policies"]["hierarchical"]["conditions"] == p["conditions"]


def test_summary_figures_come_from_the_results(tmp_path, planner) -> None:
    results = run_probe(_probe(tmp_path, [f"hierarchical:low=subtask-expert,planner=learned:{planner}"], videos=0),
                        log=lambda _: None)  # fmt: skip
    block = results["policies"]["hierarchical"]["by_axis"]["lighting"]["diagnosis"]["planning"]
    before = summary_markdown(results)
    block.update(count=7, n=9, rate=7 / 9, ci95=[0.45, 0.94])
    after = summary_markdown(results)
    assert "7 (78% [45%, 94%])" in after and "7 (78% [45%, 94%])" not in before


def test_an_expert_stack_fails_only_in_control(tmp_path) -> None:
    cfg = _probe(tmp_path, ["hierarchical:low=subtask-expert,planner=oracle"], max_steps=30, videos=0)
    p = run_probe(cfg, log=lambda _: None)["policies"]["hierarchical"]
    assert p["parts"] == {"plan": "oracle", "trace": "oracle", "locate": "none"} and p["variants"] == [
        "as_is"
    ]
    for c in p["conditions"].values():
        for f in c["failures"]:  # 30 steps are too few for two subtasks: the step limit, not a wrong part
            assert f["substitution"]["part"] == f["diagnosis"]["part"] == "control"


def test_flat_and_hierarchical_reasoning_vlas_side_by_side(tmp_path, planner, reasoning_vla) -> None:
    hier = f"hierarchical:low={reasoning_vla},planner=learned:{planner}"
    cfg = _probe(tmp_path, [reasoning_vla, hier], max_steps=6, videos=0)
    results = run_probe(cfg, log=lambda _: None)
    flat, h = results["policies"]["flat"], results["policies"]["hierarchical"]
    assert flat["parts"] == {"plan": "none", "trace": "learned", "locate": "none"}
    assert flat["variants"] == ["as_is", "oracle_reasoning", "oracle_trace"]
    assert h["variants"] == ["as_is", "oracle_plan", "oracle_reasoning", "oracle_trace", "oracle_all"]
    flat_failures = [f for c in flat["conditions"].values() for f in c["failures"]]
    assert len(flat_failures) == 2  # 6 steps: every episode fails
    for f in flat_failures:
        assert set(f["recovered"]) == {"oracle_plan", "oracle_reasoning", "oracle_trace"}
        assert f["recovered"]["oracle_plan"] is None  # a flat policy has no plan to replace
        assert "planning" in f["substitution"]["candidates"] and "planning" in f["diagnosis"]["candidates"]
    for f in (f for c in h["conditions"].values() for f in c["failures"]):
        assert set(f["recovered"]) == {"oracle_plan", "oracle_reasoning", "oracle_trace", "oracle_all"}
        assert all(isinstance(v, bool) for v in f["recovered"].values())  # every part replaceable: all re-run
        # 6 steps: no oracle can save the episode (substitution: control), yet the plan was wrong first
        assert f["substitution"]["part"] == "control" and f["diagnosis"]["part"] == "planning"
    assert h["agreement"]["same"]["rate"] == 0.0 and h["agreement"]["same"]["n"] == 2
    summary = summary_markdown(results)
    assert "flat success" in summary and "hierarchical success" in summary
    assert "| flat | diagnosis |" in summary and "| hierarchical | substitution |" in summary
    assert "planning cannot be told apart" in summary
    assert "| 2 (planning or " in summary  # the flat policy's failures, by the parts they may be


def test_the_probe_feeds_the_experts_trace_into_a_vla(reasoning_vla) -> None:
    policy = load_rollout_policy(reasoning_vla)
    assert stack(reasoning_vla, policy) == {"plan": "none", "trace": "learned", "locate": "none"}
    probe = ProbePolicy(policy, feed="trace")
    evaluate(
        EvalConfig(policy=reasoning_vla, suite="tabletop-chain-2", episodes=1, max_steps=5, videos=0),
        policy=probe,
    )
    queries = next(iter(probe.logs.values()))["queries"]
    assert len(queries) >= 2
    for q in queries:  # the trace the VLA used is the expert's at that state (offsets on the trace's bins)
        own, truth = parse_reasoning(q["trace"]), parse_reasoning(q["expert"])
        assert (own.target, own.phase) == (truth.target, truth.phase) and offset_error_cm(
            q["trace"], q["expert"]
        ) == 0
    plain = ProbePolicy(policy)  # the same policy object as is: the expert's trace is no longer fed
    evaluate(
        EvalConfig(policy=reasoning_vla, suite="tabletop-chain-2", episodes=1, max_steps=2, videos=0),
        policy=plain,
    )
    assert trace_seam(policy).trace_source is None and plain.logs
    with pytest.raises(ValueError, match="generates no reasoning trace"):
        ProbePolicy(as_rollout_policy(load_rollout_policy("expert")), feed="trace")
    assert variants({"plan": "oracle", "trace": "none"}) == ["as_is"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"levels": (4,)}, "levels must be within"),
        ({"policies": ()}, "distinct"),
        ({"share": 0.0}, "share"),
        ({"axes": ("weather",)}, "weather"),
    ],
)
def test_bad_configs_say_what_was_expected(tmp_path, kw, message) -> None:
    with pytest.raises((ValueError, KeyError), match=message):
        ProbeConfig(out=str(tmp_path), **kw)


def test_the_probe_does_not_change_the_rollout() -> None:
    spec = "hierarchical:low=subtask-expert,planner=oracle"
    cfg = EvalConfig(
        policy=spec, suite="tabletop-chain-2", episodes=2, max_steps=50, videos=0, shifts=("lighting=3",)
    )
    plain = evaluate(cfg)
    probe = ProbePolicy(load_rollout_policy(spec))
    probed = evaluate(cfg, policy=probe)
    assert [e.to_dict() for e in probed.episodes] == [e.to_dict() for e in plain.episodes]
    assert len(probe.logs) == 2 and all(len(log["queries"]) > 10 for log in probe.logs.values())
