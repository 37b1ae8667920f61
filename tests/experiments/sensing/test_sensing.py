"""``hivla experiment sensing`` end to end on the debug preset, its reuse of finished work, its option
checks and the verdicts its report computes."""

from __future__ import annotations

import json

import pytest

from hivla.cli.experiment_sensing import Config, experiment
from hivla.cli.main import main
from hivla.experiments.sensing.report import answer_lines, difference_rows
from hivla.experiments.sensing.run import versus_reference


def test_debug_preset_end_to_end_then_reused(tmp_path, capsys):
    out = tmp_path / "exp"
    args = ["experiment", "sensing", "--preset", "debug", "--out", str(out), "--arms", "rgb", "rgbd-contact",
            "--shift", "lighting=2", "table=1", "--json"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    results = json.loads((out / "results.json").read_text())
    assert results["data"]["sensors"] == ["depth", "contact"]  # the dataset holds what every arm reads
    info = json.loads((out / "data" / "meta" / "info.json").read_text())
    assert "observation.contact" in info["features"] and "observation.depth.front" in info["features"]
    for arm, (depth, contact) in {"rgb": (False, False), "rgbd-contact": (True, True)}.items():
        policy = json.loads((out / "arms" / arm / "experiment.json").read_text())["policy"]
        assert (policy["depth"], policy["contact"]) == (depth, contact)  # only the sensors differ
        assert list(results["arms"][arm]["conditions"]) == ["none", "lighting=2", "table=1"]
        assert all(len(o) == 1 for o in results["arms"][arm]["outcomes"].values())  # 1 episode per condition
    assert results["reference"] == "rgb" and set(results["versus_reference"]) == {"rgbd-contact"}
    assert summary["success"]["rgb"]["none"] == results["arms"]["rgb"]["conditions"]["none"]["success"]
    md = (out / "summary.md").read_text()
    assert "## Does depth make the policy more robust?" in md and "rgbd-contact vs rgb, table=1" in md
    assert 'data-plot="sensing-success"' in (out / "report.html").read_text()

    stamp = (out / "arms" / "rgb" / "sensing_done.json").stat().st_mtime_ns
    args[-1:] = ["--threads", "2"]
    assert main(args) == 0  # a rerun reuses the dataset, every training and evaluation
    printed = capsys.readouterr().out
    assert printed.count("reused") == 5 and " -> " not in printed and "eval rgb: reused" in printed
    assert (out / "arms" / "rgb" / "sensing_done.json").stat().st_mtime_ns == stamp


def test_a_dataset_without_a_needed_sensor_is_refused(tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", "sensing", "--preset", "debug", "--out", str(out), "--arms", "rgb", "--shift",
                 "lighting=1"]) == 0  # fmt: skip
    capsys.readouterr()
    code = main(["experiment", "sensing", "--preset", "debug", "--out", str(out), "--arms", "rgb", "rgbd",
                 "--shift", "lighting=1"])  # fmt: skip
    assert code != 0
    assert "records sensors [], the arms ['rgb', 'rgbd'] need ['depth']" in capsys.readouterr().err


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"arms": ("rgb", "thermal")}, "unknown sensing arm"),
        ({"arms": ("rgb", "rgb")}, "arms must be distinct"),
        ({"shift": ("lighting=2", "lighting=1")}, "each shift axis once"),
        ({"shift": ("lighting=0",)}, "each shift axis once"),
        ({"shift": ("weather=1",)}, "weather"),
        ({"suite": "metaworld-ml1-reach"}, "external benchmark"),
        ({"suite": "tabletop-mobile"}, "mobile"),
        ({"episodes": -1}, "must be >= 0"),
    ],
)
def test_options_are_checked(changes, message):
    with pytest.raises(Exception, match=message):
        experiment(Config(out="x", preset="debug", **changes))


def _arm(outcomes: dict[str, list[int]]) -> dict:
    return {"label": "x", "outcomes": {c: {str(i): v for i, v in enumerate(o)} for c, o in outcomes.items()},
            "robustness": {}}  # fmt: skip


def test_the_verdict_follows_the_paired_interval():
    arms = {
        "rgb": _arm({"none": [1] * 20, "lighting=2": [0] * 20, "camera=2": [1, 0] * 10}),
        "rgbd": _arm({"none": [1] * 20, "lighting=2": [1] * 20, "camera=2": [0, 1] * 10}),
    }
    results = {"arms": arms, "reference": "rgb", "conditions": ["none", "lighting=2", "camera=2"],
               "versus_reference": versus_reference(arms, "rgb")}  # fmt: skip
    lines = answer_lines(results)
    assert lines[0].endswith("+0 [+0, +0] points, no difference shown")
    assert lines[1].endswith("+100 [+100, +100] points, better")
    assert "no difference shown" in lines[2]  # the same rate on other seeds: the paired interval spans 0
    assert difference_rows(results)[1][1] == ["lighting=2", "+100 [+100, +100]"]
