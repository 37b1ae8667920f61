"""Named, versioned benchmark suites with fixed train and held-out seed lists."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hivla.registry import Registry
from hivla.sim.episode import SamplingOptions

HELDOUT_SEED_OFFSET = 1_000_000  # held-out seeds sit this far above every suite's training seeds


class SeedSplit:
    """Training and held-out seeds of a suite with ``seed_base``, ``n_train`` and ``n_heldout``."""

    seed_base: int
    n_train: int
    n_heldout: int

    @property
    def train_seeds(self) -> range:
        return range(self.seed_base, self.seed_base + self.n_train)

    @property
    def heldout_seeds(self) -> range:
        """Disjoint from every suite's training seeds (offset by ``HELDOUT_SEED_OFFSET``)."""
        start = HELDOUT_SEED_OFFSET + self.seed_base
        return range(start, start + self.n_heldout)


@dataclass(frozen=True)
class Suite(SeedSplit):
    name: str
    version: str
    chain_lengths: tuple[int, ...]
    seed_base: int
    n_train: int = 10_000
    n_heldout: int = 500
    description: str = ""
    scene: str = "tabletop"  # the layout (``hivla.sim.scene_xml.SCENES``)
    needs_base: bool = False  # only embodiments with a wheeled base run it
    place_y: tuple[float, float] | None = None  # objects' range across the table (None: the default)
    steps_per_subtask: int = 90  # the episode's step limit per subtask

    def __post_init__(self) -> None:
        if not self.chain_lengths or not all(1 <= n <= 5 for n in self.chain_lengths):
            raise ValueError(
                f"suite {self.name}: chain lengths must be within 1..5, got {self.chain_lengths}"
            )
        if self.steps_per_subtask < 1:
            raise ValueError(
                f"suite {self.name}: steps_per_subtask must be >= 1, got {self.steps_per_subtask}"
            )

    def sampling_options(self) -> SamplingOptions:
        if self.place_y is None:
            return SamplingOptions(chain_lengths=self.chain_lengths)
        # A wider table: pushes cross it, so they must also keep clear of the drawer and button.
        return SamplingOptions(chain_lengths=self.chain_lengths, place_y=self.place_y, clear_push_paths=True)


SUITES: Registry[Suite] = Registry("suite")
for _suite in (
    Suite("tabletop-single", "1", (1,), 0, description="one primitive subtask"),
    *(
        Suite(f"tabletop-chain-{n}", "1", (n,), 10_000 * n, description=f"chains of {n} subtasks")
        for n in range(2, 6)
    ),
    Suite("tabletop-mixed", "1", (1, 2, 3, 4, 5), 60_000, description="chains of 1-5 subtasks, uniform"),
    Suite(
        "tabletop-mobile",
        "1",
        (1, 2, 3),
        70_000,
        description="chains of 1-3 subtasks on a table twice as long, objects beyond a standing arm's reach "
        "(embodiments with a wheeled base)",
        scene="wide",
        needs_base=True,
        place_y=(-0.7, 0.7),
        steps_per_subtask=150,
    ),
):
    SUITES.add(_suite.name, _suite)


@dataclass(frozen=True)
class SpatialSuite(Suite):
    """A suite of spatial scenes: ``blocks`` blocks of different heights, and in every chain a cube put
    on a block named by its height ("the highest block"; :mod:`hivla.sim.spatial`)."""

    blocks: int = 3

    def sampling_options(self) -> SamplingOptions:
        return dataclasses.replace(super().sampling_options(), blocks=self.blocks)


for _suite in (
    SpatialSuite(
        "tabletop-spatial", "1", (2,), 80_000,
        description="put a cube on the highest or lowest of three blocks (pick, then stack)",
    ),
    SpatialSuite(
        "tabletop-spatial-chain", "1", (3, 4), 90_000,
        description="chains of 3-4 subtasks, one of them a stack on a block named by its height",
    ),
):  # fmt: skip
    SUITES.add(_suite.name, _suite)
