"""What the reasoning ablation trains and evaluates: arms, chain lengths, sizes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARMS = ("flat", "hierarchical", "hierarchical+reasoning")
ARM_TRAINING: dict[str, dict[str, Any]] = {
    "flat": {"language": "task"},
    "hierarchical": {"language": "subtask"},
    "hierarchical+reasoning": {"language": "subtask", "reasoning": True},
}
SUITE_BY_LENGTH = {1: "tabletop-single", 2: "tabletop-chain-2", 3: "tabletop-chain-3", 4: "tabletop-chain-4",
                   5: "tabletop-chain-5"}  # fmt: skip
DATA_SUITE = "tabletop-mixed"
RESULTS_FORMAT, RESULTS_VERSION = "hivla.reasoning_ablation", 1
DONE_FILE = "ablation_train.json"

# No figure here: a summary prints only what its run computed. The learned monitor's measurements
# (precision, recall, closed-loop cost) live in BENCHMARKS.md with their commands.
MONITOR_NOTE = (
    "The hierarchical arms are measured with the oracle monitor (the env's own subtask predicate): a "
    "perfect success detector, so these arms are an upper bound for a learned monitor. The learned "
    "SubtaskMonitor's measured precision, recall and closed-loop cost are recorded in BENCHMARKS.md "
    "(section 'The subtask monitor'); pass --monitor DIR (a `hivla monitor train` directory) to measure the "
    "arms with it, and this note then reports that monitor's own validation figures."
)


@dataclass(frozen=True)
class AblationConfig:
    """What the reasoning ablation trains and evaluates; see ``hivla experiment reasoning-ablation --help``."""

    out: str
    data: str = ""  # a collected tabletop-mixed dataset; "" = <out>/data; collected when missing
    episodes: int = 200  # episodes to collect when the dataset is missing
    embodiment: str = "floating"
    image_size: int = 64  # camera px of a collected dataset
    preset: str = "quick"
    steps: int = 0  # 0: the preset's
    planner: str = "oracle"  # oracle | a learned-planner directory (trained there when absent)
    planner_steps: int = 800
    monitor: str = "oracle"  # oracle | a `hivla monitor train` directory
    episodes_per_length: int = 20
    lengths: tuple[int, ...] = (1, 2, 3, 4, 5)
    arms: tuple[str, ...] = ARMS
    latency_suite: str = "tabletop-chain-3"
    latency_episodes: int = 2
    max_steps: int | None = None  # per evaluated episode; None: the env's (90 per subtask)
    workers: int = 1  # evaluation worker processes (or Ray tasks in flight)
    collect_workers: int = 1
    backend: str = "local"  # where the evaluations and the collection run: local | ray (hivla.utils.pool)
    address: str | None = None

    def __post_init__(self) -> None:
        from hivla.configs import PRESETS
        from hivla.sim import EMBODIMENTS, SUITES
        from hivla.utils.pool import check_backend

        check_backend(self.backend, self.address)
        PRESETS.get(self.preset)
        EMBODIMENTS.get(self.embodiment)
        SUITES.get(self.latency_suite)
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"arms must be distinct names among {', '.join(ARMS)}; got {list(self.arms)}")
        bad = [n for n in self.lengths if n not in SUITE_BY_LENGTH]
        if bad or not self.lengths:
            raise ValueError(f"lengths must be among {sorted(SUITE_BY_LENGTH)}; got {list(self.lengths)}")
        for name in ("episodes", "episodes_per_length", "latency_episodes", "planner_steps", "workers",
                     "collect_workers"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 64 <= self.image_size <= 224:
            raise ValueError(f"image_size must be within 64..224 px, got {self.image_size}")
        if self.steps < 0 or (self.max_steps is not None and self.max_steps < 1):
            raise ValueError(f"steps must be >= 0 (0: the preset's) and max_steps >= 1 or None; got {self}")

    @property
    def data_dir(self) -> Path:
        return Path(self.data) if self.data else Path(self.out) / "data"

    @property
    def hierarchical(self) -> bool:
        return any(a != "flat" for a in self.arms)
