"""Sensors end to end with the debug preset: collect with depth and contact, train an RGB-D (or point
cloud) + touch policy a few steps, evaluate it in the simulator (whose envs then render depth and
read contact)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hivla.cli.main import main
from hivla.policies import load_policy


@pytest.fixture(scope="module")
def rgbd_data(tmp_path_factory):
    from hivla.data.recorder import CollectConfig, collect

    data = tmp_path_factory.mktemp("sensors") / "rgbd"
    collect(CollectConfig(out=data, episodes=2, image_size=64, max_steps=25, sensors=("depth", "contact")))
    return data


@pytest.mark.parametrize("encoder", ["channel", "points"])
def test_collect_train_eval_with_sensors(rgbd_data, encoder, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "debug", "--data", str(rgbd_data), "--out", str(run), "--steps", "3",
                 "--threads", "1", "--sensors", "depth,contact", "--depth-encoder", encoder, "--json"]) == 0  # fmt: skip
    trained = json.loads(capsys.readouterr().out)
    assert trained["step"] == 3 and np.isfinite(trained["final_loss"])
    policy = load_policy(run)
    assert policy.config.depth and policy.config.contact and policy.config.sensors == ("depth", "contact")
    # RGB-D into the CNN, or RGB into the CNN and a PointNet token per camera
    assert policy.model.vision.stem[0].in_channels == (4 if encoder == "channel" else 3)
    assert (policy.model.points is not None) == (encoder == "points")
    assert main(["eval", "--policy", str(run), "--episodes", "1", "--max-steps", "6", "--image-size", "64",
                 "--videos", "0", "--json"]) == 0  # fmt: skip
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["metrics"]["episodes"] == 1


def test_a_sensor_policy_refuses_data_without_the_sensors(tmp_path, capsys) -> None:
    from hivla.data.recorder import CollectConfig, collect

    data = tmp_path / "rgb"
    collect(CollectConfig(out=data, episodes=1, image_size=64, max_steps=25, max_failures=30))
    assert main(["train", "--preset", "debug", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--threads", "1", "--sensors", "depth"]) == 2  # fmt: skip
    assert "hivla collect --sensors depth,contact" in capsys.readouterr().err
