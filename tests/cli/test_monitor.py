"""`hivla monitor train` on two tiny datasets (two embodiments) end to end, then `hivla monitor eval`."""

import json

import pytest

from hivla.cli.main import main
from hivla.data.recorder import CollectConfig, collect


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitor_cli")
    paths = []
    for embodiment in ("floating", "arm6"):
        out = root / embodiment
        collect(
            CollectConfig(out=out, suite="tabletop-chain-2", embodiment=embodiment, episodes=4, image_size=64)
        )
        paths.append(out)
    return paths


def run_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_monitor_train_on_two_datasets_then_eval(datasets, tmp_path, capsys):
    data = ",".join(str(p) for p in datasets)
    out = tmp_path / "monitor"
    result = run_json(
        capsys, "monitor", "train", "--data", data, "--out", str(out), "--steps", "3", "--after-boundary", "5",
        "--ambiguous", "0", "--val-fraction", "0.25", "--calibration-fraction", "0.5", "--calibration-beta", "0.5",
    )  # fmt: skip
    # 4 episodes per dataset: 1 val each; of the 6 training ones every second one calibrates
    assert result["val_episodes"] == 2 and result["train_episodes"] == 3
    assert result["val_event"]["events"] == 2  # one subtask end per chain-2 episode
    assert result["calibration"]["threshold"] == result["threshold"]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["val"] == result["val"] and saved["val_event"] == result["val_event"]
    meta = json.loads((out / "monitor.json").read_text())
    assert meta["format_version"] == 2 and meta["config"]["image_size"] == 64
    assert meta["config"]["threshold"] == result["threshold"] and meta["config"]["after_boundary"] == 5

    evaluated = run_json(
        capsys, "monitor", "eval", "--monitor", str(out), "--data", data, "--out", str(tmp_path / "e.json")
    )
    assert evaluated["episodes"] == 2 and evaluated["event"] == result["val_event"]
    assert evaluated["frame"] == result["val"]
    one = run_json(
        capsys, "monitor", "eval", "--monitor", str(out), "--data", str(datasets[0]), "--split", "all"
    )
    assert one["episodes"] == 4 and one["event"]["events"] == 4
    assert json.loads((tmp_path / "e.json").read_text())["event"] == evaluated["event"]


def test_monitor_commands_name_a_missing_dataset_or_monitor(tmp_path, capsys):
    assert main(["monitor", "train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["monitor", "eval", "--monitor", str(tmp_path), "--data", str(tmp_path)]) == 2
    assert "monitor.json" in capsys.readouterr().err
