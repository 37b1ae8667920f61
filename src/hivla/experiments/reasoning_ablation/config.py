"""What the reasoning ablation trains and evaluates: arms, chain lengths, retry budgets, sizes."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hivla.errors import HivlaError

ARMS = ("flat", "hierarchical", "hierarchical+reasoning")
ARM_TRAINING: dict[str, dict[str, Any]] = {
    "flat": {"language": "task"},
    "hierarchical": {"language": "subtask"},
    "hierarchical+reasoning": {"language": "subtask", "reasoning": True},
}
SUITE_BY_LENGTH = {1: "tabletop-single", 2: "tabletop-chain-2", 3: "tabletop-chain-3", 4: "tabletop-chain-4",
                   5: "tabletop-chain-5"}  # fmt: skip
DATA_SUITE = "tabletop-mixed"
LONG_FROM = 3  # chains of this length or more are the long horizons the summary pools
RESULTS_FORMAT, RESULTS_VERSION = "hivla.reasoning_ablation", 2
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

BUDGET_NOTE = (
    "A retry budget is what the hierarchical arms may do when the monitor finds a subtask failed: retry "
    "it (retries, per subtask) before replanning the rest of the task (replans, per episode); budget "
    "`none` allows neither, `default` is the hierarchical policy's own setting. Retries and replans "
    "spend the same per-episode step limit. The flat arm has no subtasks: it runs under the same "
    "step limit with no retries, so its row is the same evaluation under every budget."
)
ORACLE_NOTE = (
    "Rows labelled oracle run the same low-level policy, budget and seeds with the oracle planner (the "
    "task's own plan) and the oracle monitor (the env's subtask predicate) in place of the learned "
    "ones: an upper bound on what a better planner and monitor would give, not a result of the learned "
    "stack, and kept out of the main rows."
)


class AblationError(HivlaError, ValueError):
    """A reasoning-ablation option or a given training run that does not fit the experiment."""


@dataclass(frozen=True)
class Budget:
    """A retry budget of the hierarchical arms: ``retries`` of a failed subtask, ``replans`` of the rest."""

    name: str
    retries: int
    replans: int

    @property
    def slug(self) -> str:
        """The budget's folder under ``evals/<arm>/``: named by its values, so equal budgets share it."""
        return f"retries{self.retries}-replans{self.replans}"


def parse_budget(text: str) -> Budget:
    """``none`` (no retry, no replan), ``default`` (the hierarchical policy's own) or
    ``retries=N,replans=M`` -> :class:`Budget`; raises :class:`AblationError` otherwise."""
    from hivla.planning.spec import HierarchicalSpec

    if text == "none":
        return Budget("none", 0, 0)
    if text == "default":
        defaults = {f.name: f.default for f in dataclasses.fields(HierarchicalSpec)}
        return Budget("default", int(defaults["retries"]), int(defaults["replans"]))
    match = re.fullmatch(r"retries=(\d+),replans=(\d+)", text.replace(" ", ""))
    if match is None:
        raise AblationError(
            f"budget {text!r}: expected none, default or retries=N,replans=M (whole numbers >= 0), "
            "e.g. --budgets none default retries=2,replans=3"
        )
    return Budget(f"retries={match[1]},replans={match[2]}", int(match[1]), int(match[2]))


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
    policy_runs: tuple[str, ...] = ()  # ARM=DIR: evaluate an existing `hivla train` run instead of training
    budgets: tuple[str, ...] = ("none", "default")  # retry budgets of the hierarchical arms (parse_budget)
    oracle_rows: bool = False  # also evaluate the hierarchical arms with oracle planner + monitor
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
        self._check_runs()
        self._check_budgets()
        if self.oracle_rows and (
            not self.hierarchical or (self.planner == "oracle" and self.monitor == "oracle")
        ):
            raise AblationError(
                "--oracle-rows adds oracle planner + monitor rows to a learned stack: it needs a hierarchical "
                "arm and a learned --planner or --monitor (with both oracle the main rows already are the "
                "oracle ones); drop --oracle-rows or pass --planner DIR / --monitor DIR"
            )

    def _check_runs(self) -> None:
        seen: set[str] = set()
        for item in self.policy_runs:
            arm, sep, run = item.partition("=")
            if not sep or not run or arm not in ARMS:
                raise AblationError(
                    f"--policy-runs {item!r}: expected ARM=DIR with ARM among {', '.join(ARMS)} and DIR a "
                    "`hivla train` run directory, e.g. --policy-runs flat=runs/flat hierarchical=runs/sub"
                )
            if arm not in self.arms or arm in seen:
                raise AblationError(
                    f"--policy-runs names arm {arm!r} "
                    + ("twice" if arm in seen else f"which is not among --arms {' '.join(self.arms)}")
                    + ": give each arm that runs at most one run directory"
                )
            seen.add(arm)

    def _check_budgets(self) -> None:
        budgets = [parse_budget(b) for b in self.budgets]
        values = [(b.retries, b.replans) for b in budgets]
        if not budgets or len(set(values)) != len(values):
            raise AblationError(
                f"--budgets must name at least one budget and no two with the same retries and replans; got "
                f"{list(self.budgets)} = " + ", ".join(f"{b.name}: {b.retries}/{b.replans}" for b in budgets)
            )

    @property
    def runs(self) -> dict[str, str]:
        """The given training run of each arm (``--policy-runs``); the other arms are trained here."""
        return dict(item.partition("=")[::2] for item in self.policy_runs)

    @property
    def budget_list(self) -> list[Budget]:
        return [parse_budget(b) for b in self.budgets]

    @property
    def trains(self) -> bool:
        """Whether any arm is trained here (and so needs the dataset)."""
        return any(a not in self.runs for a in self.arms)

    @property
    def data_dir(self) -> Path:
        return Path(self.data) if self.data else Path(self.out) / "data"

    @property
    def hierarchical(self) -> bool:
        return any(a != "flat" for a in self.arms)
