import json

import numpy as np
import pytest
import torch

from hivla.checkpoints import CheckpointFormatError
from hivla.data import ChunkDataset, LoaderConfig
from hivla.data.recorder import CollectConfig, collect
from hivla.planning.monitor import (
    DONE,
    FAILED,
    RUNNING,
    MonitorConfig,
    SubtaskMonitor,
    load_episodes,
    monitor_examples,
)
from hivla.types import Subtask


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    root = tmp_path_factory.mktemp("mon") / "ds"
    collect(
        CollectConfig(out=root, suite="tabletop-chain-2", embodiment="floating", episodes=2, image_size=64)
    )
    return load_episodes([ChunkDataset(root, LoaderConfig(horizon=1))])


@pytest.fixture(scope="module")
def examples(episodes):
    return monitor_examples(episodes, after_boundary=3, ambiguous=2)


def test_episodes_hold_their_subtask_segments(episodes):
    assert len(episodes) == 2
    for ep in episodes:
        segments = ep.segments()
        assert len(segments) == 2 and segments[0][0] == 0 and segments[-1][1] == len(ep.texts)
        assert segments[0][1] == segments[1][0] and segments[0][2] != segments[1][2]
        assert ep.images.dtype == torch.uint8 and len(ep.images) == len(ep.state) == len(ep.texts)
    wide = monitor_examples(episodes, after_boundary=6, ambiguous=0)
    narrow = monitor_examples(episodes, after_boundary=3, ambiguous=2)
    assert int(wide.labels.sum()) > int(narrow.labels.sum())
    assert int((wide.labels == 0).sum()) == int((narrow.labels == 0).sum()) + 2 * 2  # 2 frames per boundary


def test_replay_and_calibration_score_events(episodes):
    torch.manual_seed(0)
    monitor = SubtaskMonitor(MonitorConfig(widths=(8,), steps=5, batch_size=16, hidden=16, image_size=64))
    replays = monitor.replay(episodes)
    assert len(replays) == 4 and sum(r.event is not None for r in replays) == 2  # one boundary each
    first = replays[0]
    assert first.start == 0 and len(first.probs) == first.event + 3 + 1  # asked until 3 frames late
    metrics = monitor.calibrate(episodes, thresholds=(0.2, 0.5), confirms=(1, 2))
    assert metrics["events"] == 2 and 0 <= metrics["precision"] <= 1 and 0 <= metrics["recall"] <= 1
    assert (monitor.cfg.threshold, monitor.cfg.confirm) == (metrics["threshold"], metrics["confirm"])


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
    assert json.loads((tmp_path / "m" / "monitor.json").read_text())["format_version"] == 2


def test_observations_are_resized_to_the_training_size(tmp_path):
    monitor = SubtaskMonitor(MonitorConfig(widths=(8,), image_size=32))
    sub = Subtask("press_button", text="press the button")
    rng = np.random.default_rng(0)
    small = {"images": {c: rng.integers(0, 255, (32, 32, 3), np.uint8) for c in ("front", "wrist")},
             "state": np.zeros(14, np.float32)}  # fmt: skip
    big = {**small, "images": {c: np.repeat(np.repeat(v, 2, 0), 2, 1) for c, v in small["images"].items()}}
    assert monitor.done_probability(big, sub) == pytest.approx(monitor.done_probability(small, sub), abs=1e-5)


def test_version_1_monitors_load_and_future_ones_are_refused(tmp_path):
    monitor = SubtaskMonitor(MonitorConfig(widths=(8,), image_size=64))
    path = monitor.save(tmp_path / "m")
    meta = json.loads((path / "monitor.json").read_text())
    del meta["config"]["image_size"]
    (path / "monitor.json").write_text(json.dumps({**meta, "format_version": 1}))
    assert SubtaskMonitor.load(path).cfg.image_size is None  # version 1 ran without resizing
    del meta["format"]
    (path / "monitor.json").write_text(json.dumps({**meta, "format_version": 1}))  # before the "format" key
    assert SubtaskMonitor.load(path).cfg.widths == (8,)
    (path / "monitor.json").write_text(
        json.dumps({**meta, "format": "hivla.subtask_monitor", "format_version": 3})
    )
    with pytest.raises(CheckpointFormatError, match="format_version 2"):
        SubtaskMonitor.load(path)


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
