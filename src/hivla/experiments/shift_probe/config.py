"""What the shift probe evaluates: policies, suite, shift axes and levels, seeds, diagnosis thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESULTS_FORMAT, RESULTS_VERSION = "hivla.shift_probe", 1
IN_DISTRIBUTION = "none"  # the unshifted condition's label (as in hivla.evaluation)


@dataclass(frozen=True)
class ProbeConfig:
    """What the shift probe runs; see ``hivla experiment shift-probe --help``."""

    out: str
    policies: tuple[str, ...] = ("hierarchical:low=subtask-expert,planner=oracle",)  # any --policy specs
    suite: str = "tabletop-chain-2"
    embodiment: str = "floating"
    episodes: int = 20  # held-out seeds per condition (the same for every condition and variant)
    axes: tuple[str, ...] = ()  # shift axes; () = every axis of SHIFT_AXES
    levels: tuple[int, ...] = (1, 2, 3)
    first_seed_index: int = 0
    max_steps: int | None = None  # per episode; None: the env's (90 per subtask)
    threshold_cm: float = 5.0  # a trace offset farther than this from the expert's is a perception error
    threshold_uv: float = 0.25  # no trace: a located target this far from the true one (image: -1..1)
    share: float = 0.5  # a part counts as wrong at this share of the failed subtask's queries or more
    videos: int = 1  # success and failure videos kept per condition of the as-is run (0: none)

    def __post_init__(self) -> None:
        from hivla.sim import EMBODIMENTS, SHIFT_AXES, SUITES
        from hivla.sim.shifts import MAX_LEVEL

        SUITES.get(self.suite)
        EMBODIMENTS.get(self.embodiment)
        for axis in self.axes:
            SHIFT_AXES.get(axis)
        if not self.policies or len(set(self.policies)) != len(self.policies):
            raise ValueError(
                f"policies must be distinct --policy specs, at least one; got {list(self.policies)}"
            )
        if not self.levels or any(not 1 <= lv <= MAX_LEVEL for lv in self.levels):
            raise ValueError(f"levels must be within 1..{MAX_LEVEL}, got {list(self.levels)}")
        if (
            self.episodes < 1
            or not 0 < self.share <= 1
            or self.videos < 0
            or min(self.threshold_cm, self.threshold_uv) <= 0
        ):
            raise ValueError(
                f"episodes must be >= 1, share within (0, 1], videos >= 0, threshold_cm and threshold_uv > 0; "
                f"got episodes={self.episodes}, share={self.share}, videos={self.videos}, threshold_cm="
                f"{self.threshold_cm}, threshold_uv={self.threshold_uv}"
            )
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {self.max_steps}")
        self.conditions()

    def shift_items(self) -> list[str]:
        """``axis=level`` for every chosen axis and level."""
        from hivla.sim import SHIFT_AXES

        return [f"{axis}={lv}" for axis in (self.axes or SHIFT_AXES.names()) for lv in self.levels]

    def conditions(self) -> list[Any]:
        """In distribution, then one condition per axis and level (``hivla.evaluation`` Conditions)."""
        from hivla.evaluation import EvalConfig

        return EvalConfig(suite=self.suite, embodiment=self.embodiment, episodes=self.episodes,
                          first_seed_index=self.first_seed_index, shifts=tuple(self.shift_items())).conditions()  # fmt: skip

    def named_policies(self) -> dict[str, str]:
        """A short name per policy (``flat`` / ``hierarchical``, numbered when repeated) -> its spec."""
        from hivla.planning.spec import is_hierarchical_spec

        out: dict[str, str] = {}
        for spec in self.policies:
            base = "hierarchical" if is_hierarchical_spec(spec) else "flat"
            name, k = base, 2
            while name in out:
                name, k = f"{base}-{k}", k + 1
            out[name] = spec
        return out
