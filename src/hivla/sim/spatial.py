"""Spatial references and object sizes: blocks named by height, and the size/height shift.

A spatial scene has ``catalogue.N_BLOCKS`` blocks (cube slots resized into platforms of different
heights). A subtask may name a block by a relation instead of its colour, "stack the red cube on the
highest block": the relation is resolved from the physics state whenever it is read (the block whose
top is highest now), so only the scene's 3D layout, never a colour, says which block is meant.

The ``size`` shift axis scales objects away from their catalogue sizes: at level L every cube and
cylinder grows by ``SIZE_STEP_PER_LEVEL * L`` in every dimension, and the blocks' heights all grow or
all shrink by as much (one seeded coin per scene, so their order by height stays). Receptacles keep
their size. Cubes and cylinders do not shrink: below the catalogue's smallest (3.6 cm) the parallel-jaw
hand's soft contacts squeeze a cube out of the grasp (measured with a coin to grow or shrink each: at
level 3, 4-30% of 50 tabletop-spatial episodes failed at a pick, by embodiment, against 0-1% unshifted;
the failed picks checked were of 2.5-2.8 cm cubes). Pure numpy, no MuJoCo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from hivla.sim import catalogue as cat

# Phrases that name a block by its height, and how to choose it from {name: top height}.
RELATIONS: dict[str, Callable[[Mapping[str, float]], str]] = {
    "highest block": lambda tops: max(tops, key=lambda n: tops[n]),
    "lowest block": lambda tops: min(tops, key=lambda n: tops[n]),
}
SIZE_STEP_PER_LEVEL = (
    0.1  # per level, cubes and cylinders grow by this fraction; blocks' heights change by it
)
SIZE_SEED_SALT = 4243  # the size shift's coin comes from its own stream: nothing else moves


def is_relation(name: str | None) -> bool:
    """Whether ``name`` names a block by a relation ("highest block") rather than by colour."""
    return name in RELATIONS


def choose(relation: str, tops: Mapping[str, float]) -> str:
    """The block ``relation`` names among ``tops`` ({block name: height of its top, m})."""
    if relation not in RELATIONS:
        raise KeyError(f"unknown relation {relation!r}; expected one of {sorted(RELATIONS)}")
    if not tops:
        raise KeyError(f"{relation!r}: this scene has no blocks; spatial suites (tabletop-spatial) have them")
    return RELATIONS[relation](tops)


def half_extents(slot: cat.ObjectSlot) -> np.ndarray:
    """float[3]: half extents of the object's bounding box in its own frame."""
    if slot.shape == "cube":
        return np.asarray(slot.size, np.float64)
    if slot.shape == "cylinder":
        return np.array([slot.size[0], slot.size[0], slot.size[1]])
    return np.array([slot.size[0], slot.size[0], slot.top_height])


def top_of(pos: np.ndarray, mat: np.ndarray, slot: cat.ObjectSlot) -> float:
    """Height (m) of the highest point of the object's box at ``pos`` with rotation ``mat`` (3x3)."""
    return float(pos[2] + np.abs(np.asarray(mat).reshape(3, 3)[2]) @ half_extents(slot))


def sample_block_tops(rng: np.random.Generator, n: int = cat.N_BLOCKS) -> list[float]:
    """``n`` heights of block tops within ``BLOCK_TOP_RANGE``, at least ``BLOCK_MIN_GAP`` apart."""
    lo, hi = cat.BLOCK_TOP_RANGE
    if (n - 1) * cat.BLOCK_MIN_GAP > hi - lo:
        raise ValueError(f"{n} blocks do not fit {cat.BLOCK_MIN_GAP} m apart within {cat.BLOCK_TOP_RANGE}")
    slack = (hi - lo) - (n - 1) * cat.BLOCK_MIN_GAP
    # Sorted uniform points in the slack, then spread by the gap: uniform over the allowed sets.
    base = np.sort(rng.uniform(0.0, slack, n))
    tops = lo + base + cat.BLOCK_MIN_GAP * np.arange(n)
    return [float(t) for t in rng.permutation(tops)]


def block_size(top: float) -> tuple[float, float, float]:
    """Half extents of a block whose top is at ``top`` (m) when it stands on the table."""
    return (cat.BLOCK_HALF_XY, cat.BLOCK_HALF_XY, top / 2)


def size_factors(seed: int, labels: list[str], level: int) -> list[float]:
    """Scale factor per object (``labels``: what each object is) under the size shift at ``level``.

    Cubes and cylinders: 1 + step * level; blocks: 1 +- step * level, one seeded coin for all of them
    (their height order stays); anything else: 1.
    """
    if level == 0:
        return [1.0] * len(labels)
    step = SIZE_STEP_PER_LEVEL * level
    block_sign = 1.0 if np.random.default_rng([seed, SIZE_SEED_SALT]).random() < 0.5 else -1.0
    factor = {cat.BLOCK_NOUN: 1.0 + block_sign * step, "cube": 1.0 + step, "cylinder": 1.0 + step}
    return [factor.get(label, 1.0) for label in labels]


def scaled_size(size: tuple[float, ...], label: str, factor: float) -> tuple[float, ...]:
    """``size`` (of an object called ``label``: block, cube, ...) under a size-shift ``factor``: a block
    changes its height only, a cube or cylinder every dimension."""
    if label == cat.BLOCK_NOUN:
        return (size[0], size[1], size[2] * factor)
    return tuple(float(v * factor) for v in size)
