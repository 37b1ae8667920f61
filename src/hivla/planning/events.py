"""Event-level scoring of a subtask monitor: did it say "done" when a subtask really completed?

A detection is a step where the monitor reported ``done``; a true event is the step where the
recorded subtask index advances. A detection within ``tolerance`` steps of a true event matches it
(one to one, nearest first). Precision = matched detections / detections; recall = matched events /
events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TOLERANCE = 3  # steps either side of the true completion that still count (issue 15)


@dataclass(frozen=True)
class EventCounts:
    detections: int = 0
    events: int = 0
    matched: int = 0  # matched pairs (each detection and each event in at most one)

    def __add__(self, other: EventCounts) -> EventCounts:
        return EventCounts(
            self.detections + other.detections, self.events + other.events, self.matched + other.matched
        )

    @property
    def precision(self) -> float:
        return self.matched / self.detections if self.detections else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.events if self.events else 0.0

    @property
    def f1(self) -> float:
        return self.fbeta(1.0)

    def fbeta(self, beta: float) -> float:
        """F-beta of precision and recall (beta < 1 weighs precision more: an early "done" skips a
        subtask, a late one only waits)."""
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "detections": self.detections, "events": self.events, "matched": self.matched}  # fmt: skip


def match_events(detections: Sequence[int], events: Sequence[int], tolerance: int = TOLERANCE) -> EventCounts:
    """Match detection steps to true event steps of one episode, one to one within ``tolerance``.

    Pairs are taken closest first (ties: earliest), so a detection never takes an event that a
    nearer detection explains. Raises ValueError for a negative tolerance."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    pairs = sorted(
        (abs(d - e), e, i, j)
        for i, d in enumerate(detections)
        for j, e in enumerate(events)
        if abs(d - e) <= tolerance
    )
    used_d, used_e = set(), set()
    for _, _, i, j in pairs:
        if i not in used_d and j not in used_e:
            used_d.add(i)
            used_e.add(j)
    return EventCounts(len(detections), len(events), len(used_d))


def first_done(probs: Iterable[float], threshold: float, confirm: int) -> int | None:
    """The index where a monitor with this threshold and confirmation count first reports done
    (``confirm`` consecutive probabilities above ``threshold``), or None."""
    votes = 0
    for t, p in enumerate(probs):
        votes = votes + 1 if p > threshold else 0
        if votes >= confirm:
            return t
    return None
