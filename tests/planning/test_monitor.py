import numpy as np
import pytest
import torch

from hivla.data import ChunkDataset, LoaderConfig
from hivla.data.recorder import CollectConfig, collect
from hivla.planning.monitor import DONE, FAILED, RUNNING, MonitorConfig, SubtaskMonitor, monitor_examples
from hivla.types import Subtask


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    root = tmp_path_factory.mktemp("mon") / "ds"
    collect(
        CollectConfig(out=root, suite="tabletop-chain-2", embodiment="floating", episodes=2, image_size=64)
    )
    return monitor_examples(ChunkDataset(root, LoaderConfig(horizon=1)), after_boundary=3, ambiguous=2)


def test_examples_label_the_frames_after_each_boundary(examples):
    assert examples.images.dtype == torch.uint8 and examples.images.shape[1:3] == (2, 3)
    positives = int(examples.labels.sum())
    assert 2 <= positives <= 2 * 3  # one boundary per chain-2 episode, 3 frames each (fewer at an end)
    assert len(examples.texts) == len(examples.labels) == len(examples.state)


def test_monitor_fits_saves_and_loads(examples, tmp_path):
    torch.manual_seed(0)
    monitor = SubtaskMonitor(MonitorConfig(widths=(8, 16), steps=30, batch_size=16, hidden=32))
    losses = monitor.fit(examples)
    assert np.isfinite(losses).all()
    metrics = monitor.evaluate(examples)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["positives"] == int(examples.labels.sum())
    monitor.save(tmp_path / "m")
    loaded = SubtaskMonitor.load(tmp_path / "m")
    obs = {
        "images": {c: np.zeros((64, 64, 3), np.uint8) for c in ("front", "wrist")},
        "state": np.zeros(14, np.float32),
    }
    sub = Subtask("press_button", text="press the button")
    assert loaded.done_probability(obs, sub) == pytest.approx(monitor.done_probability(obs, sub), abs=1e-6)


def test_status_confirms_done_and_fails_on_budget_or_drop():
    monitor = SubtaskMonitor(MonitorConfig(widths=(8,), confirm=2, step_budget=3))
    obs = {
        "images": {c: np.zeros((64, 64, 3), np.uint8) for c in ("front", "wrist")},
        "state": np.zeros(14, np.float32),
    }
    monitor.done_probability = lambda o, s: 0.9  # a confident detector
    press = Subtask("press_button", text="press the button")
    assert monitor.status(obs, press) == RUNNING and monitor.status(obs, press) == DONE
    monitor.reset()
    monitor.done_probability = lambda o, s: 0.1
    assert [monitor.status(obs, press) for _ in range(4)][-1] == FAILED
    monitor.reset()
    place = Subtask("place", "red cube", "green bowl", "place the red cube in the green bowl")
    assert monitor.status(obs, place) == FAILED  # gripper width 0 while it should hold the cube
