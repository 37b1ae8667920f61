"""The reasoning ablation end to end on the debug preset (all three arms), and its parts."""

import dataclasses
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hivla.cli.experiment_reasoning_ablation import Config as CliConfig
from hivla.cli.experiment_reasoning_ablation import run as cli_run
from hivla.errors import HivlaError
from hivla.experiments.reasoning_ablation.config import (
    ARMS,
    BUDGET_NOTE,
    MONITOR_NOTE,
    ORACLE_NOTE,
    AblationConfig,
    AblationError,
    parse_budget,
)
from hivla.experiments.reasoning_ablation.report import (
    _apart,
    _arm_line,
    length_cell,
    oracle_label,
    rerender,
    success_cell,
)
from hivla.experiments.reasoning_ablation.run import (
    ensure_planner,
    given_run,
    latency_variants,
    monitor_info,
    policy_spec,
    run_ablation,
)


def _tiny(out, **kw):
    sizes = {"preset": "debug", "steps": 4, "episodes": 2, "episodes_per_length": 1, "max_steps": 12,
             "latency_episodes": 1}  # fmt: skip
    return AblationConfig(out=str(out), **{**sizes, **kw})


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    """The three arms trained and evaluated once on the debug preset (both default budgets), with the log."""
    cfg = _tiny(tmp_path_factory.mktemp("abl") / "abl")
    log: list[str] = []
    return cfg, run_ablation(cfg, log=log.append), log


def test_three_arms_end_to_end_under_both_budgets_then_resumed(ablation):
    cfg, results, _ = ablation
    assert results["data"]["collected"] and results["data"]["episodes"] == 2
    assert list(results["arms"]) == list(ARMS)
    for arm, a in results["arms"].items():
        t = a["train"]
        assert t["source"] == "trained" and t["step"] == 4
        assert t["key"]["language"] == ("task" if arm == "flat" else "subtask")
    assert results["arms"]["hierarchical+reasoning"]["train"]["key"]["reasoning"] is True
    assert list(results["budgets"]) == ["none", "default"]
    none, default = results["budgets"]["none"], results["budgets"]["default"]
    assert (none["retries"], none["replans"]) == (0, 0) and (default["retries"], default["replans"]) == (1, 2)
    for budget in (none, default):
        assert list(budget["rows"]) == list(ARMS) and budget["oracle"] == {}
        for arm, r in budget["rows"].items():
            assert r["policy"].startswith("hierarchical:low=") == (arm != "flat")
            assert sorted(r["by_length"]) == ["1", "2", "3", "4", "5"] and 0.0 <= r["avg_len"] <= 5.0
            assert all(b["episodes"] == 1 and len(b["success_ci95"]) == 2 for b in r["by_length"].values())
            assert r["long"]["episodes"] == 3  # chains 3, 4 and 5
    assert none["rows"]["hierarchical"]["policy"].endswith(",retries=0,replans=0")
    assert default["rows"]["hierarchical"]["policy"].endswith(",retries=1,replans=2")
    assert none["rows"]["flat"] == default["rows"]["flat"]  # the flat arm: one evaluation, no budget
    out = Path(cfg.out)
    assert (out / "evals/flat/tabletop-single/results.json").is_file()
    for slug in ("retries0-replans0", "retries1-replans2"):
        assert (out / "evals/hierarchical+reasoning" / slug / "tabletop-chain-5/results.json").is_file()
    lat = results["latency"]
    assert all(v["torch_threads"] == 1 and v["step_ms"]["n"] >= 12 for v in lat.values())
    assert lat["flat"]["plan_ms"] is None and lat["hierarchical"]["plan_ms"]["n"] >= 1
    assert lat["hierarchical"]["key"]["spec"] == none["rows"]["hierarchical"]["policy"]  # the first budget
    reuse, fresh = (
        lat["hierarchical+reasoning (reuse k=0)"]["traces"],
        lat["hierarchical+reasoning (no reuse k=1)"]["traces"],
    )
    assert fresh["generated"] == fresh["queries"] >= 2 and reuse["generated"] < reuse["queries"]
    assert json.loads((out / "results.json").read_text())["budgets"] == results["budgets"]
    summary = (out / "summary.md").read_text()
    for budget in ("none (retries 0, replans 0)", "default (retries 1, replans 2)"):
        assert f"## Success by chain length, budget {budget}" in summary
    cell = success_cell(default["rows"]["hierarchical"]["by_length"]["1"])
    assert "| hierarchical | " + cell in summary and "## Retry budgets side by side" in summary
    assert "| hierarchical+reasoning | " + length_cell(none["rows"]["hierarchical+reasoning"]) in summary
    assert MONITOR_NOTE in summary and BUDGET_NOTE in summary and ORACLE_NOTE not in summary
    assert "chains >= 3: hierarchical+reasoning" in summary and "monitor: upper bound" not in summary
    for budget in ("none", "default"):
        svg = ET.fromstring((out / f"success_vs_chain_length_{budget}.svg").read_text())
        assert svg.get("data-plot") == f"success-vs-chain-length-{budget}"
        lines = [
            e for e in svg.iter() if (e.get("id") or "").startswith(f"success-vs-chain-length-{budget}-line-")
        ]
        points = [u for line in lines for u in line.iter("{http://www.w3.org/2000/svg}use")]  # the markers
        assert len(lines) == 3 and len(points) == 3 * 5  # arms x chain lengths
    html = (out / "report.html").read_text()
    assert html.count('data-plot="success-vs-chain-length-') == 2
    second_log: list[str] = []
    again = run_ablation(cfg, log=second_log.append)
    assert all("reused" in line for line in second_log), second_log  # nothing retrained or re-evaluated
    assert again["budgets"] == results["budgets"] and again["latency"] == results["latency"]
    with pytest.raises(ValueError, match=r"holds train flat .* made with .*choose a new --out"):
        run_ablation(dataclasses.replace(cfg, steps=5), log=second_log.append)


def test_given_runs_are_evaluated_without_training_or_data(ablation, tmp_path):
    cfg, _, _ = ablation
    arms = Path(cfg.out) / "arms"
    runs = tuple(f"{arm}={arms / arm}" for arm in ARMS)
    log: list[str] = []
    given = _tiny(tmp_path / "given", policy_runs=runs, lengths=(1,), budgets=("none",), latency_episodes=1)
    results = run_ablation(given, log=log.append)
    assert results["data"] is None and not (tmp_path / "given" / "data").exists()
    assert not (tmp_path / "given" / "arms").exists() and not any(line.startswith("train") for line in log)
    for arm, a in results["arms"].items():
        t = a["train"]
        assert t["source"] == "given" and t["key"]["given"] == str(arms / arm)
        assert t["run"].startswith(str(arms / arm / "checkpoints"))  # evaluated from its latest checkpoint
        assert t["key"]["preset"] == "debug" and t["key"]["steps"] == 4
        assert t["step"] == 4 and t["unfinished"] is False
    assert results["budgets"]["none"]["rows"]["flat"]["policy"] == results["arms"]["flat"]["train"]["run"]
    summary = (tmp_path / "given" / "summary.md").read_text()
    assert f"- hierarchical: given run {arms / 'hierarchical'} (language=subtask, reasoning off" in summary
    assert "at step 4)" in summary and "unfinished" not in summary


def test_an_unfinished_given_run_is_flagged(ablation, tmp_path):
    cfg, _, _ = ablation
    run = tmp_path / "run"
    shutil.copytree(Path(cfg.out) / "arms" / "flat", run)
    exp = json.loads((run / "experiment.json").read_text())
    exp["train"]["steps"] = 40  # as if training had been stopped (or is still going) at step 4
    (run / "experiment.json").write_text(json.dumps(exp))
    log: list[str] = []
    t = given_run(_tiny(tmp_path / "x"), "flat", str(run), log.append)
    assert t["step"] == 4 and t["unfinished"] is True and "WARNING: unfinished, step 4 of 40" in log[0]
    assert "unfinished" in _arm_line("flat", {"train": t})


@pytest.mark.parametrize(
    ("arm", "run", "message"),
    [
        ("flat", "hierarchical", r"language='subtask' where the arm needs 'task'.*fits arm 'hierarchical'"),
        ("hierarchical", "flat", r"language='task' where the arm needs 'subtask'.*fits arm 'flat'"),
        ("hierarchical+reasoning", "hierarchical", r"reasoning off where the arm needs it on.*--reasoning"),
        ("hierarchical", "hierarchical+reasoning", r"reasoning on where the arm needs it off"),
    ],
)
def test_a_run_trained_for_another_arm_is_refused(ablation, tmp_path, arm, run, message):
    cfg, _, _ = ablation
    given = _tiny(tmp_path / "x", policy_runs=(f"{arm}={Path(cfg.out) / 'arms' / run}",), arms=(arm,))
    with pytest.raises(AblationError, match=message) as err:
        run_ablation(given, log=lambda _: None)
    assert isinstance(err.value, HivlaError) and f"--policy-runs {arm}=" in str(err.value)
    assert not (tmp_path / "x" / "evals").exists()


def test_a_directory_that_is_no_run_is_refused(tmp_path):
    given = _tiny(tmp_path / "x", policy_runs=(f"flat={tmp_path}",), arms=("flat",))
    with pytest.raises(AblationError, match=r"--policy-runs flat=.*hivla train"):
        run_ablation(given, log=lambda _: None)


def test_oracle_rows_stay_apart_from_the_learned_stack(ablation, tmp_path):
    cfg, _, _ = ablation
    planner = ensure_planner(str(tmp_path / "planner"), 20, lambda _: None, examples=120, eval_examples=10)
    run = Path(cfg.out) / "arms" / "hierarchical"
    given = _tiny(tmp_path / "o", policy_runs=(f"hierarchical={run}",), arms=("hierarchical",), lengths=(1, 3),
                  budgets=("none",), planner=planner["dir"], oracle_rows=True)  # fmt: skip
    results = run_ablation(given, log=lambda _: None)
    block = results["budgets"]["none"]
    main, oracle = block["rows"]["hierarchical"], block["oracle"]["hierarchical"]
    assert f"planner=learned:{planner['dir']},monitor=oracle" in main["policy"]
    assert ",planner=oracle,monitor=oracle,retries=0,replans=0" in oracle["policy"]
    assert (
        tmp_path / "o/evals/hierarchical@oracle/retries0-replans0/tabletop-chain-3/results.json"
    ).is_file()
    summary = (tmp_path / "o" / "summary.md").read_text()
    main_table, rest = summary.split("### Upper bound, not the learned stack", 1)
    assert "upper bound)" not in main_table.split("## Success by chain length", 1)[1]
    row = "| hierarchical (oracle planner + monitor: upper bound) | " + success_cell(oracle["by_length"]["1"])
    assert row in rest and ORACLE_NOTE in summary
    side = summary.split("## Retry budgets side by side", 1)[1].split("##", 1)[0]
    table_lines = [line for line in side.splitlines() if line.startswith("|")]
    assert table_lines and not any("oracle" in line for line in table_lines)  # the main rows only
    assert oracle_label("hierarchical") in (tmp_path / "o" / "report.html").read_text()


def test_the_summary_is_computed_from_results_json(ablation, tmp_path):
    cfg, _, _ = ablation
    out = tmp_path / "copy"
    out.mkdir()
    results = json.loads((Path(cfg.out) / "results.json").read_text())
    block = results["budgets"]["default"]["rows"]["hierarchical+reasoning"]
    block["by_length"]["2"].update(successes=17, episodes=19, success=17 / 19, success_ci95=[0.6789, 0.9712])
    block.update(avg_len=3.4567, avg_len_ci95=[2.9876, 3.9123])
    (out / "results.json").write_text(json.dumps(results))
    before = (Path(cfg.out) / "summary.md").read_text()
    answer = cli_run(CliConfig(out=str(out), report_only=True), quiet=True)
    after = Path(answer["summary"]).read_text()
    for figure in ("89% [68%, 97%] (17/19)", "3.46 [2.99, 3.91]"):
        assert figure in after and figure not in before
    assert "3.46 [2.99, 3.91] vs hierarchical" in after  # the long-horizon comparison follows too
    assert "89% [68%, 97%] (17/19)" in (out / "report.html").read_text()


def test_report_only_needs_a_results_file(tmp_path):
    with pytest.raises(AblationError, match=r"results\.json of hivla\.reasoning_ablation v2, found none"):
        rerender(tmp_path)


def test_intervals_are_compared_as_apart_or_overlapping():
    assert _apart([0.5, 0.8], [0.1, 0.4]) == "ahead (intervals apart)"
    assert _apart([0.1, 0.4], [0.5, 0.8]) == "behind (intervals apart)"
    assert _apart([0.1, 0.5], [0.4, 0.8]) == "not told apart (intervals overlap)"


def test_planner_is_trained_once_then_reused(tmp_path):
    log: list[str] = []
    first = ensure_planner(str(tmp_path / "planner"), 20, log.append, examples=120, eval_examples=10)
    again = ensure_planner(str(tmp_path / "planner"), 20, log.append, examples=120, eval_examples=10)
    assert first == again and first["spec"] == f"learned:{tmp_path / 'planner'}"
    assert set(first["accuracy"]) == {"in_distribution", "heldout_paraphrases"}
    assert "training" in log[0] and "reused" in log[1]
    assert ensure_planner("oracle", 20, log.append)["spec"] == "oracle"


def test_arms_are_named_by_eval_specs_and_timed_with_both_reuse_settings():
    assert policy_spec("flat", "runs/a", "oracle", "oracle") == "runs/a"
    assert policy_spec("hierarchical", "runs/b", "learned:runs/p", "oracle") == (
        "hierarchical:low=runs/b,planner=learned:runs/p,monitor=oracle"
    )
    assert policy_spec("flat", "runs/a", "oracle", "oracle", parse_budget("default")) == "runs/a"
    assert policy_spec("hierarchical", "runs/b", "oracle", "m", parse_budget("retries=3,replans=0")) == (
        "hierarchical:low=runs/b,planner=oracle,monitor=m,retries=3,replans=0"
    )
    assert [(v, k) for v, _, k in latency_variants(ARMS)] == [
        ("flat", None), ("hierarchical", None),
        ("hierarchical+reasoning (reuse k=0)", 0), ("hierarchical+reasoning (no reuse k=1)", 1),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"arms": ("flat", "cot")}, r"arms must be distinct names among flat, hierarchical"),
        ({"lengths": (1, 6)}, r"lengths must be among \[1, 2, 3, 4, 5\]"),
        ({"episodes_per_length": 0}, r"episodes_per_length must be >= 1"),
        ({"budgets": ("none", "some")}, r"budget 'some': expected none, default or retries=N,replans=M"),
        ({"budgets": ("none", "retries=0,replans=0")}, r"no two with the same retries and replans"),
        ({"budgets": ()}, r"at least one budget"),
        ({"policy_runs": ("flat:runs/f",)}, r"--policy-runs 'flat:runs/f': expected ARM=DIR"),
        ({"policy_runs": ("cot=runs/f",)}, r"expected ARM=DIR with ARM among flat, hierarchical"),
        ({"policy_runs": ("flat=a", "flat=b")}, r"names arm 'flat' twice"),
        ({"policy_runs": ("hierarchical=a",), "arms": ("flat",)}, r"which is not among --arms flat"),
        (
            {"oracle_rows": True},
            r"--oracle-rows .* needs a hierarchical arm and a learned --planner or --monitor",
        ),
        ({"oracle_rows": True, "planner": "runs/p", "arms": ("flat",)}, r"--oracle-rows"),
    ],
)
def test_bad_configs_say_what_was_expected(tmp_path, kw, message):
    with pytest.raises(ValueError, match=message):
        _tiny(tmp_path, **kw)


def test_a_missing_monitor_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"hivla monitor train .* monitor\.json"):
        monitor_info(str(tmp_path / "nothing"))
    assert monitor_info("oracle")["note"] == MONITOR_NOTE


def test_the_monitor_note_types_no_figure_and_a_learned_one_reports_its_own(tmp_path):
    assert not re.search(r"\d", MONITOR_NOTE) and "BENCHMARKS.md" in MONITOR_NOTE
    assert not re.search(r"\d", BUDGET_NOTE + ORACLE_NOTE)  # the notes type no figure either
    (tmp_path / "monitor.json").write_text("{}")
    metrics = {"val": {"precision": 0.123, "recall": 0.456}, "val_event": {"precision": 0.7, "recall": 0.81}}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    note = monitor_info(str(tmp_path))["note"]
    assert "precision 12%, recall 46%" in note and "precision 70%, recall 81%" in note
    metrics["val"]["precision"] = 0.9
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert "precision 90%, recall 46%" in monitor_info(str(tmp_path))["note"]
