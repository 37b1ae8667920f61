"""``hivla experiment cross-embodiment`` end to end on the debug preset (fixed and mobile bodies, so
universal actions of mixed widths), its reuse of finished work, and its option checks."""

from __future__ import annotations

import json

import pytest

from hivla.cli.experiment_cross_embodiment import Config, experiment
from hivla.cli.main import main
from hivla.errors import HivlaError
from hivla.experiments.cross_embodiment.report import kind_rows
from hivla.experiments.cross_embodiment.run import paired_differences
from hivla.registry import UnknownNameError


def test_debug_preset_end_to_end_then_reused(tmp_path, capsys):
    out = tmp_path / "exp"
    args = ["experiment", "cross-embodiment", "--preset", "debug", "--out", str(out), "--embodiments", "floating",
            "arm5", "mobile", "--held-out", "arm5", "mobile", "--json"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    results = json.loads((out / "results.json").read_text())
    assert set(results["runs"]) == {"per-body/floating", "per-body/arm5", "per-body/mobile", "joint",
                                    "held-out/arm5", "held-out/mobile"}  # fmt: skip
    assert results["runs"]["held-out/arm5"]["bodies"] == ["floating", "mobile"]
    assert set(results["runs"]["joint"]["bodies"]) == {"floating", "arm5", "mobile"}
    table = results["table"]
    assert list(table) == ["floating", "arm5", "mobile"]
    assert set(table["floating"]) == {"per-body", "joint"} and set(table["arm5"]) == {
        "per-body",
        "joint",
        "held-out",
    }
    for body, row in table.items():
        seeds = {tuple(cell["seeds"]) for cell in row.values()}
        assert len(seeds) == 1, f"{body}: the arms ran different seeds"  # the same held-out seeds per body
        for cell in row.values():
            assert cell["episodes"] == 1 and len(cell["success_ci95"]) == 2
    assert summary["success"]["arm5"]["held-out"] == table["arm5"]["held-out"]["success"]
    joint = json.loads(next((out / "runs" / "joint").glob("checkpoints/*/assets/processor.json")).read_text())
    assert joint["action_widths"] == {"arm5": 7, "floating": 7, "mobile": 10}  # mixed widths trained together
    md = (out / "summary.md").read_text()
    assert "| evaluated body | one policy per body" in md and "zero-shot" in md
    assert "hivla experiment cross-embodiment --preset debug" in md and "--held-out arm5 mobile" in md
    assert "0/1)" in md or "1/1)" in md
    pooled = sum(table[b]["joint"]["successes"] for b in table)
    assert "| all evaluated bodies (pooled) |" in md and f"({pooled}/3)" in md
    diffs = results["differences"]
    assert set(diffs) == {"joint - per-body", "held-out - per-body", "held-out - joint"}
    assert set(diffs["joint - per-body"]) == {"floating", "arm5", "mobile", "pooled"}
    assert set(diffs["held-out - joint"]) == {"arm5", "mobile", "pooled"}
    assert diffs["joint - per-body"]["pooled"]["paired_seeds"] == 3
    assert (
        summary["pooled_differences"]["held-out - joint"] == diffs["held-out - joint"]["pooled"]["difference"]
    )
    kinds = {k for row in table.values() for cell in row.values() for k in cell["by_kind"]}
    assert kinds and all(
        sum(b["episodes"] for b in cell["by_kind"].values()) == cell["episodes"] for row in table.values()
        for cell in row.values()
    )  # fmt: skip
    assert "## Success by subtask kind" in md and "| subtask kind |" in md
    assert "## Paired differences" in md and "joint - per-body, over floating, arm5, mobile" in md
    html = (out / "report.html").read_text()
    assert 'data-plot="cross-embodiment"' in html and "Wilson" in html and "Paired differences" in html

    stamp = (out / "runs" / "joint" / "cross_embodiment_done.json").stat().st_mtime_ns
    args[-1:] = ["--threads", "2"]
    assert main(args) == 0  # a rerun reuses every dataset, training and evaluation (threads change no result)
    printed = capsys.readouterr().out
    assert "(reused)" in printed and " -> " not in printed
    assert (out / "runs" / "joint" / "cross_embodiment_done.json").stat().st_mtime_ns == stamp


def _cell(outcomes: dict[str, int]) -> dict:
    return {"outcomes": outcomes}


def test_paired_differences_per_body_and_pooled():
    """Differences pair episodes by body and seed; pooled joins every body both arms ran on."""
    table = {
        "floating": {"per-body": _cell({"1": 0, "2": 0, "3": 1}), "joint": _cell({"1": 1, "2": 1, "3": 1})},
        "arm5": {
            "per-body": _cell({"1": 1, "2": 1, "3": 1, "4": 1}),
            "joint": _cell({"1": 1, "2": 0, "3": 1, "4": 1}),
            "held-out": _cell({"1": 0, "2": 0, "3": 0}),  # seed 4 not run: left out of its pairs
        },
    }
    diffs = paired_differences(table)
    assert list(diffs) == ["joint - per-body", "held-out - per-body", "held-out - joint"]
    assert diffs["joint - per-body"]["floating"]["difference"] == pytest.approx(2 / 3)
    assert diffs["joint - per-body"]["arm5"]["difference"] == pytest.approx(-1 / 4)
    pooled = diffs["joint - per-body"]["pooled"]
    assert pooled["paired_seeds"] == 7 and pooled["difference"] == pytest.approx(1 / 7)
    lo, hi = pooled["ci95"]
    assert lo <= pooled["difference"] <= hi
    zero_shot = diffs["held-out - per-body"]
    assert set(zero_shot) == {"arm5", "pooled"} and zero_shot["arm5"]["paired_seeds"] == 3
    assert zero_shot["arm5"]["difference"] == -1.0 and zero_shot["arm5"]["ci95"] == [-1.0, -1.0]
    assert diffs["held-out - joint"]["arm5"]["difference"] == pytest.approx(-2 / 3)


def test_success_by_kind_pools_each_arm_over_its_bodies():
    def cell(**kinds):
        return {"by_kind": {k: {"successes": w, "episodes": n} for k, (w, n) in kinds.items()}}

    results = {"table": {
        "floating": {"per-body": cell(pick=(2, 4), press_button=(3, 3)), "joint": cell(pick=(0, 4), press_button=(3, 3))},
        "arm5": {"per-body": cell(pick=(1, 4)), "joint": cell(pick=(1, 4)), "held-out": cell(pick=(0, 4))},
    }}  # fmt: skip
    header, rows = kind_rows(results)
    assert header[0] == "subtask kind" and len(header) == 4
    assert rows == [
        ["pick", "38% (3/8)", "12% (1/8)", "0% (0/4)"],
        ["press_button", "100% (3/3)", "100% (3/3)", "–"],
    ]


def test_options_are_checked():
    with pytest.raises(UnknownNameError, match="embodiment"):
        Config(out="x", preset="debug", embodiments=("floating", "arm7"))
    with pytest.raises(HivlaError, match="--held-out must name distinct bodies among the embodiments"):
        Config(out="x", preset="debug", embodiments=("floating", "arm6"), held_out=("arm5",))
    with pytest.raises(HivlaError, match="at least two distinct bodies"):
        Config(out="x", preset="debug", embodiments=("floating", "floating"), held_out=("floating",))
    with pytest.raises(HivlaError, match="stand in for a human hand"):
        Config(out="x", preset="debug", embodiments=("floating", "hand"), held_out=("hand",))
    with pytest.raises(HivlaError, match="does not run on"):
        Config(
            out="x", preset="debug", suite="tabletop-mobile", embodiments=("floating", "mobile"), held_out=()
        )
    with pytest.raises(HivlaError, match="arms must be"):
        Config(out="x", preset="debug", arms=("joint", "everything"))
    with pytest.raises(HivlaError, match="threads >= 0"):
        Config(out="x", preset="debug", threads=-1)
    with pytest.raises(ValueError, match="episodes, steps and eval_episodes"):
        Config(out="x", preset="debug", episodes=-1)
    no_held_out = experiment(
        Config(out="x", preset="debug", arms=("per-body", "joint"), held_out=("nobody",))
    )
    assert no_held_out.held_out_bodies == ()  # --held-out only matters with the held-out arm


@pytest.mark.parametrize("name", ["debug", "quick", "standard"])
def test_every_experiment_preset_validates(name):
    from hivla.configs import PRESETS
    from hivla.experiments.cross_embodiment.config import EXPERIMENT_PRESETS

    assert EXPERIMENT_PRESETS.names() == ["debug", "quick", "standard"]
    sizes = EXPERIMENT_PRESETS.get(name)
    PRESETS.get(sizes.vla_preset)
    cfg = experiment(Config(out="x", preset=name))
    assert cfg.resolved == sizes and "arm5" in cfg.bodies
    assert ("mobile" in cfg.bodies) == (name == "standard")
