import numpy as np
import pytest

from hivla.planning.events import EventCounts, first_done, match_events
from hivla.planning.monitor import Replay, score_replays


def test_detections_within_tolerance_match_one_to_one():
    c = match_events([10, 24, 40], [12, 20, 60], tolerance=3)
    assert (c.detections, c.events, c.matched) == (3, 3, 1)  # 10~12; 24 is 4 from 20; 40 matches none
    assert c.precision == pytest.approx(1 / 3) and c.recall == pytest.approx(1 / 3)
    assert match_events([20, 23], [20, 23], tolerance=3).matched == 2  # nearest first, not greedy by order
    assert match_events([21, 22], [20], tolerance=3).matched == 1  # one event explains one detection
    assert match_events([17], [20], tolerance=3).matched == 1 and match_events([16], [20], 3).matched == 0


def test_counts_add_up_and_handle_empty_lists():
    total = match_events([], [5], 3) + match_events([7], [], 3) + match_events([5], [5], 0)
    assert total == EventCounts(detections=2, events=2, matched=1)
    assert total.f1 == pytest.approx(0.5)
    precise = EventCounts(detections=2, events=4, matched=2)  # precision 1, recall 0.5
    assert precise.fbeta(0.5) == pytest.approx(1.25 * 0.5 / (0.25 + 0.5)) and precise.fbeta(0.5) > precise.f1
    assert EventCounts().precision == 0.0 and EventCounts().recall == 0.0
    with pytest.raises(ValueError, match="tolerance"):
        match_events([1], [1], -1)


def test_first_done_needs_consecutive_votes():
    assert first_done([0.9, 0.1, 0.9, 0.9], threshold=0.5, confirm=2) == 3
    assert first_done([0.9, 0.1], threshold=0.5, confirm=1) == 0
    assert first_done([0.4, 0.5], threshold=0.5, confirm=1) is None  # strictly above


def test_replays_score_the_first_done_of_each_subtask():
    replays = [
        Replay(0, 0, 10, np.array([0.1] * 9 + [0.9] * 4)),  # done reported at frame 10 (confirm 2): hit
        Replay(0, 10, 20, np.array([0.9, 0.9] + [0.1] * 12)),  # early at frame 11: false, and a miss
        Replay(0, 20, None, np.array([0.1] * 5)),  # the last subtask: no detection, no event
        Replay(1, 0, 8, np.array([0.1] * 12)),  # never done: a miss
    ]
    c = score_replays(replays, threshold=0.5, confirm=2, tolerance=3)
    assert (c.detections, c.events, c.matched) == (2, 3, 1)
