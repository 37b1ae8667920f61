"""Failure attribution: why an episode failed, from privileged facts observed every step.

The attribution looks at the subtask the episode failed on (the window since the last subtask
was completed) and names the first matching category, in this order:

| category        | meaning                                                                     |
|-----------------|-----------------------------------------------------------------------------|
| `safety_stop`   | the safety filter's e-stop ended the episode (repeated NaN/inf actions)     |
| `wrong_order`   | a later subtask of the chain came true before the current one               |
| `wrong_object`  | the hand grasped an object the current subtask does not act on              |
| `dropped`       | the hand held the subtask's object, then let go before the subtask held      |
| `never_grasped` | a pick/place/stack subtask whose object the hand never held                 |
| `timeout`       | anything else: the step limit ran out (e.g. drawer, button or push unfinished)|
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hivla.types import Subtask

FAILURE_CATEGORIES: tuple[str, ...] = (
    "never_grasped",
    "wrong_object",
    "dropped",
    "timeout",
    "wrong_order",
    "safety_stop",
)
GRASP_KINDS = ("pick", "place", "stack")


@dataclass(frozen=True)
class StepFacts:
    """What the attribution needs from one step's ``info`` (and the env's predicates)."""

    completed: int  # subtasks completed so far
    grasped: str | None  # object held by both fingers
    out_of_order: bool = False  # a later subtask's predicate newly holds


class FailureTracker:
    """Feed :meth:`observe` every step (including right after reset), then :meth:`attribute`."""

    def __init__(self, subtasks: Sequence[Subtask]) -> None:
        if not subtasks:
            raise ValueError("FailureTracker needs the episode's subtasks, got none")
        self.subtasks = tuple(subtasks)
        self._completed = -1
        self._previous_grasp: str | None = None

    def _open_window(self, facts: StepFacts) -> None:
        self._completed = facts.completed
        self.held_target = self._is_target(facts.grasped)
        self.released_target = False
        self.wrong_grasp: str | None = None
        self.wrong_order = False

    def _current(self) -> Subtask | None:
        return self.subtasks[self._completed] if self._completed < len(self.subtasks) else None

    def _is_target(self, grasped: str | None) -> bool:
        sub = self._current()
        return grasped is not None and sub is not None and grasped == sub.obj

    def observe(self, facts: StepFacts) -> None:
        if facts.completed != self._completed:
            self._open_window(facts)
        sub = self._current()
        if sub is not None:
            if facts.grasped is not None and not self._is_target(facts.grasped):
                self.wrong_grasp = self.wrong_grasp or facts.grasped
            if self._is_target(facts.grasped):
                self.held_target = True
            elif self._is_target(self._previous_grasp):
                self.released_target = True
            self.wrong_order = self.wrong_order or facts.out_of_order
        self._previous_grasp = facts.grasped

    @property
    def failed_subtask(self) -> Subtask | None:
        return self._current()

    def attribute(self, success: bool, safety_stop: bool = False) -> str | None:
        """The failure category, or None for a successful episode."""
        if success:
            return None
        if safety_stop:
            return "safety_stop"
        sub = self._current()
        if sub is None:  # all subtasks completed, yet not a success: treat as the step limit
            return "timeout"
        if self.wrong_order:
            return "wrong_order"
        if self.wrong_grasp is not None:
            return "wrong_object"
        holding = self._is_target(self._previous_grasp)
        if self.released_target and not holding:
            return "dropped"
        if sub.kind in GRASP_KINDS and not self.held_target:
            return "never_grasped"
        return "timeout"
