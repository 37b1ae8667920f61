"""``hivla experiment latent-transfer`` end to end on the debug preset, its reuse of finished work,
and its option checks."""

from __future__ import annotations

import json

import pytest

from hivla.cli.experiment_latent_transfer import Config, experiment
from hivla.cli.main import main


def test_debug_preset_end_to_end_then_reused(tmp_path, capsys):
    out = tmp_path / "exp"
    args = ["experiment", "latent-transfer", "--preset", "debug", "--out", str(out), "--embodiments", "floating",
            "hand", "--fractions", "1.0", "--json"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    results = json.loads((out / "results.json").read_text())
    assert set(results["matrix"]) == {"linear", "mlp"}
    for kind in ("linear", "mlp"):
        cell = results["matrix"][kind]["hand"]["floating"]
        assert (
            set(cell["r2"]) == {"dx", "dy", "dz", "drx", "dry", "drz", "gripper"}
            and 0 <= cell["gripper_acc"] <= 1
        )
        assert cell["r2"]["drx"] is None  # neither hand rotates about x: no R²
    assert results["labelled_counts"] == [3] and set(results["curves"]) == {
        "scratch",
        "latent-all",
        "latent-others",
    }
    for arm, curve in results["curves"].items():
        block = curve["3"]
        assert block["episodes"] == 1 and len(block["success_ci95"]) == 2
        assert (block["train"]["loaded_tensors"] is None) == (arm == "scratch")  # pretrained weights loaded
    assert results["lams"]["others"]["samples_with_actions"] == 0  # the hand's actions never train
    assert results["lams"]["all"]["samples_with_actions"] > 0  # the floating robot's do (alignment)
    assert summary["success"]["scratch"]["3"] == results["curves"]["scratch"]["3"]["success"]
    html = (out / "report.html").read_text()
    for plot in ("r2-linear", "gripper-mlp", "data-efficiency"):
        assert f'data-plot="{plot}"' in html
    assert "<img" in html and (out / "latent_examples.png").is_file()
    md = (out / "summary.md").read_text()
    assert "## Target check" in md and "points; target >= +15" in md

    stamp = (out / "finetune" / "scratch" / "n3" / "latent_transfer_done.json").stat().st_mtime_ns
    args[-1:] = ["--threads", "2"]
    assert main(args) == 0  # a rerun reuses every dataset, training and evaluation (threads change no result)
    printed = capsys.readouterr().out
    assert "(reused)" in printed and " -> " not in printed
    assert (out / "finetune" / "scratch" / "n3" / "latent_transfer_done.json").stat().st_mtime_ns == stamp

    args[-2:] = [
        "--finetune-steps",
        "3",
        "--arms",
        "scratch",
    ]  # a fine-tuning sweep: its own points, the rest reused
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "latent action model (all): " in printed and "(reused)" in printed
    assert (
        printed.count(" -> ") == 1
        and (out / "finetune" / "scratch" / "n3-s3" / "latent_transfer_done.json").is_file()
    )
    assert (out / "evals" / "scratch" / "n3-s3" / "results.json").is_file()
    assert "fine-tuning 3 steps" in (out / "summary.md").read_text()


def test_options_are_checked():
    with pytest.raises(ValueError, match="include the target"):
        experiment(Config(out="x", preset="debug", target="arm6", embodiments=("floating", "hand")))
    with pytest.raises(ValueError, match="arms must be"):
        Config(out="x", preset="debug", arms=("scratch", "latent-everything"))
    with pytest.raises(ValueError, match="no episode"):
        Config(out="x", preset="debug", fractions=(0.1,))
    with pytest.raises(ValueError, match="threads >= 0"):
        Config(out="x", preset="debug", threads=-1)


@pytest.mark.parametrize("name", ["debug", "quick", "standard"])
def test_every_experiment_preset_validates(name):
    from hivla.configs import PRESETS
    from hivla.experiments.latent_transfer.config import EXPERIMENT_PRESETS
    from hivla.latent_actions import LATENT_PRESETS

    assert EXPERIMENT_PRESETS.names() == ["debug", "quick", "standard"]
    sizes = EXPERIMENT_PRESETS.get(name)
    LATENT_PRESETS.get(sizes.lam_preset), PRESETS.get(sizes.vla_preset)
    assert experiment(Config(out="x", preset=name)).resolved == sizes
