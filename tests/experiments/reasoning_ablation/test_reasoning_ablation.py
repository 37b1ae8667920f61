"""The reasoning ablation end to end on the debug preset (all three arms), and its parts."""

import dataclasses
import json
import re
import xml.etree.ElementTree as ET

import pytest

from hivla.experiments.reasoning_ablation.config import ARMS, MONITOR_NOTE, AblationConfig
from hivla.experiments.reasoning_ablation.report import success_cell
from hivla.experiments.reasoning_ablation.run import (
    ensure_planner,
    latency_variants,
    monitor_info,
    policy_spec,
    run_ablation,
)


def _tiny(out, **kw):
    sizes = {"preset": "debug", "steps": 4, "episodes": 2, "episodes_per_length": 1, "max_steps": 12,
             "latency_episodes": 1}  # fmt: skip
    return AblationConfig(out=str(out), **{**sizes, **kw})


def test_three_arms_end_to_end_then_resumed(tmp_path):
    cfg = _tiny(tmp_path / "abl")
    first_log: list[str] = []
    results = run_ablation(cfg, log=first_log.append)
    assert results["data"]["collected"] and results["data"]["episodes"] == 2
    assert list(results["arms"]) == list(ARMS)
    for arm, a in results["arms"].items():
        assert a["train"]["step"] == 4 and a["train"]["key"]["language"] == (
            "task" if arm == "flat" else "subtask"
        )
        assert a["policy"].startswith("hierarchical:low=") == (arm != "flat")
        assert sorted(a["by_length"]) == ["1", "2", "3", "4", "5"] and 0.0 <= a["avg_len"] <= 5.0
        assert all(b["episodes"] == 1 and len(b["success_ci95"]) == 2 for b in a["by_length"].values())
    assert results["arms"]["hierarchical+reasoning"]["train"]["key"]["reasoning"] is True
    lat = results["latency"]
    assert all(v["torch_threads"] == 1 and v["step_ms"]["n"] >= 12 for v in lat.values())
    assert lat["flat"]["plan_ms"] is None and lat["hierarchical"]["plan_ms"]["n"] >= 1
    reuse, fresh = (
        lat["hierarchical+reasoning (reuse k=0)"]["traces"],
        lat["hierarchical+reasoning (no reuse k=1)"]["traces"],
    )
    assert fresh["generated"] == fresh["queries"] >= 2 and reuse["generated"] < reuse["queries"]
    out = tmp_path / "abl"
    assert json.loads((out / "results.json").read_text())["arms"] == results["arms"]
    summary = (out / "summary.md").read_text()
    assert "| hierarchical | " + success_cell(results["arms"]["hierarchical"]["by_length"]["1"]) in summary
    assert MONITOR_NOTE in summary
    svg = (out / "report.html").read_text().split('<svg xmlns="http://www.w3.org/2000/svg"', 1)[1]
    root = ET.fromstring('<svg xmlns="http://www.w3.org/2000/svg"' + svg.split("</svg>", 1)[0] + "</svg>")
    assert root.get("data-plot") == "success-vs-chain-length"
    standalone = ET.fromstring((out / "success_vs_chain_length.svg").read_text())
    assert standalone.get("data-plot") == "success-vs-chain-length"
    lines = [e for e in root.iter() if (e.get("id") or "").startswith("success-vs-chain-length-line-")]
    points = [u for line in lines for u in line.iter("{http://www.w3.org/2000/svg}use")]  # the markers
    assert len(lines) == 3 and len(points) == 3 * 5  # arms x chain lengths
    second_log: list[str] = []
    again = run_ablation(cfg, log=second_log.append)
    assert all("reused" in line for line in second_log), second_log  # nothing retrained or re-evaluated
    assert again["arms"] == results["arms"] and again["latency"] == results["latency"]
    with pytest.raises(ValueError, match=r"holds arm 'flat' trained with .*choose a new --out"):
        run_ablation(dataclasses.replace(cfg, steps=5), log=second_log.append)


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
    (tmp_path / "monitor.json").write_text("{}")
    metrics = {"val": {"precision": 0.123, "recall": 0.456}, "val_event": {"precision": 0.7, "recall": 0.81}}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    note = monitor_info(str(tmp_path))["note"]
    assert "precision 12%, recall 46%" in note and "precision 70%, recall 81%" in note
    metrics["val"]["precision"] = 0.9
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert "precision 90%, recall 46%" in monitor_info(str(tmp_path))["note"]
