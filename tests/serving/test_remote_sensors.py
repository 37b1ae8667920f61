"""A policy that reads depth (as a point cloud) and touch, served by `hivla serve`: the metadata names
the sensor keys every request must carry, `hivla eval --remote` turns the env's sensors on and sends
them, and a request without them gets an error saying what to send."""

from __future__ import annotations

import json

import numpy as np
import pytest
from websockets.sync.client import connect

from hivla.cli.main import main
from hivla.serving.wire import pack, unpack


@pytest.fixture(scope="module")
def sensor_run(tmp_path_factory):
    """A debug VLA reading RGB, depth as a point cloud, and contact, trained 2 steps on recorded episodes."""
    from hivla.data.recorder import CollectConfig, collect

    root = tmp_path_factory.mktemp("remote-sensors")
    collect(
        CollectConfig(
            out=root / "data", episodes=2, image_size=64, max_steps=20, sensors=("depth", "contact")
        )
    )
    args = ["train", "--preset", "debug", "--data", str(root / "data"), "--out", str(root / "run"), "--steps", "2",
            "--threads", "1", "--sensors", "depth,contact", "--depth-encoder", "points"]  # fmt: skip
    assert main(args) == 0
    return root / "run"


def test_remote_eval_of_a_sensor_policy(sensor_run, serve, tmp_path, capsys):
    with serve(str(sensor_run)) as server:
        with connect(server.url, max_size=None) as ws:
            meta = unpack(ws.recv())
            assert list(meta["observation"]["sensors"]) == ["depth", "camera_params", "contact"]
            assert meta["policy"]["sensors"] == ["depth", "contact"]
            shape = tuple(meta["observation"]["images"]["shape"])
            obs = {
                "images": {c: np.zeros(shape, np.uint8) for c in meta["observation"]["images"]["cameras"]},
                "state": np.zeros(meta["observation"]["state"]["dim"], np.float32),
                "prompt": "put the red cube in the bowl",
            }
            ws.send(pack(obs))
            answer = ws.recv(timeout=30)
            assert isinstance(answer, str) and "this policy reads 'depth'" in answer and "'contact'" in answer
            ws.send(pack({**obs, "depth": {"front": np.ones((64, 64), np.float32)}, "contact": np.zeros(3, np.float32),
                          "camera_params": {}}))  # fmt: skip
            answer = ws.recv(timeout=30)
            assert isinstance(answer, str) and "'contact' must be float32[10]" in answer
        args = ["eval", "--remote", server.url, "--episodes", "2", "--max-steps", "6", "--videos", "0", "--out",
                str(tmp_path / "remote"), "--json"]  # fmt: skip
        assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["overall"]["episodes"] == 2 and out["metrics"]["latency"]["step_ms"]["median"] > 0
