"""The evaluation config: which policy, suite, embodiment, seeds, shift conditions and execution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHIFT_MODES = ("each", "combined")
DEFAULT_IMAGE_SIZE = 128


@dataclass(frozen=True)
class Condition:
    """One shift condition: a label such as ``none`` or ``lighting=2+camera=1`` and its shifts."""

    label: str
    shifts: dict[str, int]


def suite_seeds(suite: str, split: str, start: int, count: int) -> list[int]:
    """``count`` seeds from ``suite``'s ``split`` list ("heldout" | "train") from index ``start``."""
    from hivla.sim import get_suite

    s = get_suite(suite)
    pool = s.heldout_seeds if split == "heldout" else s.train_seeds
    if start < 0 or start + count > len(pool):
        raise ValueError(
            f"suite {suite} has {len(pool)} {split} seeds; asked for {count} from index {start}. "
            f"Ask for at most {len(pool) - max(start, 0)} episodes."
        )
    return list(pool[start : start + count])


@dataclass(frozen=True)
class Interjection:
    """A human instruction given to the policy at env step ``step`` (``policy.interject(text)``)."""

    step: int
    text: str

    @classmethod
    def parse(cls, spec: str) -> Interjection:
        """``"STEP:TEXT"``, e.g. ``"20:put the red cube in the bowl"`` -> Interjection(20, ...)."""
        step, sep, text = spec.partition(":")
        if not sep or not step.strip().isdigit() or not text.strip():
            raise ValueError(
                f"interjection {spec!r} is not STEP:TEXT; expected a step >= 0, a colon and the new "
                'instruction, e.g. 20:"put the red cube in the bowl"'
            )
        return cls(int(step), text.strip())


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and how; see ``hivla eval --help`` for each field.

    ``workers``: episodes run at once (worker processes, or Ray tasks in flight with the ``ray``
    backend). ``interjections`` ("STEP:TEXT") are given to the policy (``policy.interject(text)``) before it
    acts at that env step. The env's own task predicate stays the judge of success: an interjection
    that changes the task is scored against the original instruction, and each episode records
    whether the policy's plan changed, so that the effect can be read from the records.
    """

    policy: str = "expert"
    suite: str = "tabletop-single"
    embodiment: str = "floating"
    episodes: int = 20
    shifts: tuple[str, ...] = ()  # "axis=level" each; "all" / "all=L" expand (see conditions)
    shift_mode: str = "each"  # each: baseline + one condition per shift; combined: all shifts at once
    workers: int = 1
    split: str = "heldout"
    first_seed_index: int = 0
    image_size: int | None = None  # None: the policy's training size, else DEFAULT_IMAGE_SIZE
    execute_steps: int | None = None  # None: the policy's own
    ensemble: float | None = None  # temporal ensembling weight m; None executes chunks open loop
    videos: int = 2  # success videos and failure videos to keep (each)
    estop_after_nonfinite: int = 5
    max_steps: int | None = None  # None: the env's limit (90 steps per subtask)
    interjections: tuple[str, ...] = ()  # "STEP:TEXT" each
    backend: str = "local"  # where episodes run: local processes | ray (hivla.utils.pool)
    address: str | None = None  # ray only: None starts Ray here; auto | ray://HOST:PORT joins a cluster

    def __post_init__(self) -> None:
        from hivla.sim import check_embodiment, is_external
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        check_embodiment(self.suite, self.embodiment)
        if self.shifts and is_external(self.suite):
            raise ValueError(f"suite {self.suite} is an external benchmark and takes no shifts; drop --shift")
        for name in ("episodes", "workers", "estop_after_nonfinite"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.videos < 0:
            raise ValueError(f"videos must be >= 0, got {self.videos}")
        if self.split not in ("heldout", "train"):
            raise ValueError(f"split must be 'heldout' or 'train', got {self.split!r}")
        if self.shift_mode not in SHIFT_MODES:
            raise ValueError(f"shift_mode must be one of {SHIFT_MODES}, got {self.shift_mode!r}")
        if self.image_size is not None and not 64 <= self.image_size <= 224:
            raise ValueError(f"image_size must be within 64..224 px or None, got {self.image_size}")
        if self.execute_steps is not None and self.execute_steps < 1:
            raise ValueError(f"execute_steps must be >= 1 or None, got {self.execute_steps}")
        if self.ensemble is not None and self.ensemble < 0:
            raise ValueError(f"ensemble (temporal ensembling m) must be >= 0 or None, got {self.ensemble}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {self.max_steps}")
        self.conditions()
        self.seeds()
        self.interjection_schedule()

    def interjection_schedule(self) -> tuple[Interjection, ...]:
        """The parsed interjections in step order (ValueError on a malformed one)."""
        return tuple(sorted((Interjection.parse(s) for s in self.interjections), key=lambda i: i.step))

    def seeds(self) -> list[int]:
        return suite_seeds(self.suite, self.split, self.first_seed_index, self.episodes)

    def conditions(self) -> list[Condition]:
        """``each``: the unshifted baseline, then one condition per shift; ``combined``: one condition.

        ``all`` stands for every axis of ``SHIFT_AXES`` at levels 1, 2 and 3 (axis by axis), ``all=L``
        for every axis at level L; with ``each`` they may be mixed with explicit ``axis=level`` items
        and the conditions are their union, each once, in the order first given (``all`` expanded
        where it stands, axes in alphabetical order). ``combined`` rejects ``all`` (an axis takes
        one level at a time).
        """
        from hivla.sim import parse_shifts

        items = [(lb, s) for item in self.shifts for lb, s in _expand(item, self.shift_mode)]
        if self.shift_mode == "each":
            labels = [lb for lb, _ in items]
            if len(set(labels)) != len(labels) and not any(_is_all(i) for i in self.shifts):
                raise ValueError(f"each shift may be given once, got {list(self.shifts)}")
            unique = dict(items)  # `all` mixed with explicit items: their union, first position kept
            return [Condition("none", {}), *(Condition(lb, s) for lb, s in unique.items())]
        parsed = [(item, parse_shifts([item])) for item in self.shifts]
        axes = [axis for _, s in parsed for axis in s]
        if len(set(axes)) != len(axes):
            raise ValueError(
                f"shift_mode 'combined' applies all shifts at once, so each axis may appear once; got {list(self.shifts)}"
            )
        if not parsed:
            return [Condition("none", {})]
        merged: dict[str, int] = {axis: level for _, s in parsed for axis, level in s.items()}
        return [Condition("+".join(f"{a}={lvl}" for a, lvl in merged.items()), merged)]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        d = asdict(self)
        d["shifts"] = list(self.shifts)
        d["interjections"] = list(self.interjections)
        return d


ALL = "all"  # --shift all: every axis at levels 1..3; all=L: every axis at level L


def _is_all(item: str) -> bool:
    return item.strip().partition("=")[0].strip() == ALL


def _expand(item: str, mode: str) -> list[tuple[str, dict[str, int]]]:
    """One ``--shift`` item -> its (label, shifts) conditions: ``axis=level`` is one, ``all`` one
    per axis and level 1..3, ``all=L`` one per axis at level L. Raises ValueError."""
    from hivla.sim import SHIFT_AXES, parse_shifts
    from hivla.sim.shifts import MAX_LEVEL

    if not _is_all(item):
        shift = parse_shifts([item])
        if not shift:
            raise ValueError(f"shift {item!r} has level 0 (no shift); give levels 1..3")
        return [("+".join(f"{a}={lvl}" for a, lvl in shift.items()), shift)]
    if mode != "each":
        raise ValueError(
            f"shift {item!r} expands to several conditions, which shift_mode {mode!r} cannot combine "
            "(an axis takes one level at a time); use shift_mode 'each' or list the axis=level items"
        )
    _, sep, level = item.partition("=")
    if sep and (not level.strip().isdigit() or not 1 <= int(level) <= MAX_LEVEL):
        raise ValueError(f"shift {item!r}: expected all or all=LEVEL with LEVEL 1..{MAX_LEVEL}, e.g. all=2")
    levels = [int(level)] if sep else list(range(1, MAX_LEVEL + 1))
    return [(f"{axis}={lvl}", {axis: lvl}) for axis in SHIFT_AXES.names() for lvl in levels]
