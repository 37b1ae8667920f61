"""Sampling one episode: which objects are on the table (colours, poses), the drawer's start, the
push square, and a feasible chain of subtasks with its instruction. Pure numpy, no MuJoCo."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from hivla.sim import catalogue as cat
from hivla.sim import spatial
from hivla.sim.language import canonical_text, instruction_for
from hivla.types import Subtask


@dataclass(frozen=True)
class PlacedObject:
    slot: str
    colour: str
    xy: tuple[float, float]
    yaw: float
    distractor: bool = False
    noun: str | None = None  # what it is called when not its slot's shape ("block")
    size: tuple[float, ...] | None = None  # its size when not the catalogue's (same meaning per shape)

    @property
    def label(self) -> str:
        """What the object is called: its noun, else its slot's shape."""
        return self.noun or cat.SLOT_BY_NAME[self.slot].shape

    @property
    def name(self) -> str:
        return f"{self.colour} {self.label}"

    @property
    def slot_info(self) -> cat.ObjectSlot:
        """Its catalogue slot at the size it has in this episode."""
        slot = cat.SLOT_BY_NAME[self.slot]
        return slot if self.size is None else slot.resized(self.size)


@dataclass(frozen=True)
class EpisodeSpec:
    seed: int
    objects: tuple[PlacedObject, ...]
    drawer_open: bool
    zone_xy: tuple[float, float]
    subtasks: tuple[Subtask, ...]
    instruction: str
    shifts: dict[str, int] = field(default_factory=dict)

    def slot_of(self, name: str) -> str:
        return self.object_named(name).slot

    def object_named(self, name: str) -> PlacedObject:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"no object named {name!r} in this scene; objects: {[o.name for o in self.objects]}")


@dataclass(frozen=True)
class SamplingOptions:
    """What the suite and the shifts ask of the sampler."""

    chain_lengths: tuple[int, ...]
    colours: tuple[str, ...] = tuple(cat.TRAIN_COLOURS)
    place_x: tuple[float, float] = cat.PLACE_X
    place_y: tuple[float, float] = cat.PLACE_Y
    n_distractors: int = 0
    heldout_paraphrases: bool = False
    combos: str = "train"  # "train": seen object/receptacle combinations only; "heldout": only unseen ones
    recolour: int = 0  # give this many objects colours never used in training (names follow)
    blocks: int = 0  # spatial scenes: this many blocks of sampled heights, one named by height per chain
    resize: int = 0  # the size shift's level: scale cubes, cylinders and block heights (spatial module)
    clear_push_paths: bool = False  # pushes also keep clear of the drawer and button (long pushes cross them)

    def __post_init__(self) -> None:
        if self.blocks and (self.blocks < 2 or min(self.chain_lengths) < 2):
            raise ValueError(
                f"spatial sampling needs >= 2 blocks and chains of >= 2 subtasks (pick, then stack on a "
                f"block named by height), got blocks={self.blocks}, chain lengths {self.chain_lengths}"
            )


def combo_is_heldout(obj_name: str, target_name: str) -> bool:
    """A fixed quarter of (object, receptacle/base) name pairs never appear in training suites."""
    code = sum(ord(c) for c in obj_name) * 7 + sum(ord(c) for c in target_name) * 3
    return code % 4 == 0


class _ChainState:
    def __init__(self, drawer_open: bool) -> None:
        self.drawer_open = drawer_open
        self.used: set[str] = set()  # objects already manipulated or built upon
        self.filled: set[str] = set()  # receptacles already holding something
        self.drawer_used = False
        self.button_used = False


def _options(
    state: _ChainState, names: dict[str, str], remaining: int, combos: str
) -> list[tuple[Subtask, ...]]:
    """Feasible next steps (a pick with its place/stack counts as two subtasks)."""
    free = [n for n, shape in names.items() if n not in state.used and shape in ("cube", "cylinder")]
    recept = [n for n, shape in names.items() if shape in ("bowl", "plate") and n not in state.filled]
    bases = [n for n, shape in names.items() if shape == "cube" and n not in state.used]
    want_heldout = combos == "heldout"
    out: list[tuple[Subtask, ...]] = []
    if cat.BLOCK_NOUN in names.values() and remaining >= 2:  # spatial scenes only: a block named by height
        for obj in free:
            for rel in spatial.RELATIONS:
                if names[obj] == "cube" and rel not in state.filled:
                    out.append((Subtask("pick", obj), Subtask("stack", obj, rel)))
    for obj in free:
        out.append((Subtask("push", obj, "square"),))
        if remaining == 1:
            out.append((Subtask("pick", obj),))
        if remaining >= 2:
            for r in recept:
                if combo_is_heldout(obj, r) == want_heldout:
                    out.append((Subtask("pick", obj), Subtask("place", obj, r)))
            for b in bases:
                if b != obj and names[obj] == "cube" and combo_is_heldout(obj, b) == want_heldout:
                    out.append((Subtask("pick", obj), Subtask("stack", obj, b)))
    if not state.drawer_used:
        out.append((Subtask("close_drawer" if state.drawer_open else "open_drawer"),))
    if not state.button_used:
        out.append((Subtask("press_button"),))
    return [o for o in out if len(o) <= remaining]


def _apply(state: _ChainState, step: tuple[Subtask, ...]) -> None:
    for sub in step:
        if sub.kind in ("pick", "push"):
            state.used.add(sub.obj)
        if sub.kind == "place":
            state.filled.add(sub.target)
        if sub.kind == "stack":
            state.used.add(sub.target)
            state.filled.add(sub.target)  # a block named by height takes one object
        if sub.kind in ("open_drawer", "close_drawer"):
            state.drawer_used, state.drawer_open = True, sub.kind == "open_drawer"
        if sub.kind == "press_button":
            state.button_used = True


def sample_chain(
    names: dict[str, str],
    length: int,
    drawer_open: bool,
    rng: np.random.Generator,
    combos: str,
    state: _ChainState | None = None,
) -> list[Subtask] | None:
    """A random feasible chain of exactly ``length`` subtasks over the named objects, or None.
    ``state``: what earlier steps already used (default: nothing)."""
    state, chain = state or _ChainState(drawer_open), []
    while len(chain) < length:
        options = _options(state, names, length - len(chain), combos)
        if not options:
            return None
        # Weight kinds evenly so that object-rich scenes do not drown the drawer and button.
        kinds = sorted({o[-1].kind for o in options})
        kind = kinds[int(rng.integers(len(kinds)))]
        pick_from = [o for o in options if o[-1].kind == kind]
        step = pick_from[int(rng.integers(len(pick_from)))]
        _apply(state, step)
        chain.extend(step)
    return chain


def _keep_out(xy: np.ndarray, radius: float) -> bool:
    """True where a disc would collide with the drawer (and its swept front) or the button."""
    dx, dy = cat.DRAWER_POS
    if xy[0] + radius > dx - 0.09 - cat.DRAWER_TRAVEL - 0.1 and abs(xy[1] - dy) < 0.1 + radius:
        return True
    bx, by = cat.BUTTON_POS
    return bool(xy[0] + radius > bx - 0.09 and abs(xy[1] - by) < 0.09 + radius)


def _place(
    slots: list[str],
    rng: np.random.Generator,
    opts: SamplingOptions,
    taken: list[tuple[np.ndarray, float]],
    footprints: dict[str, float] | None = None,
) -> list[tuple[float, float]] | None:
    out = []
    for slot in slots:
        radius = (footprints or {}).get(slot, cat.SLOT_BY_NAME[slot].footprint)
        for _ in range(200):
            xy = np.array([rng.uniform(*opts.place_x), rng.uniform(*opts.place_y)])
            if _keep_out(xy, radius):
                continue
            if all(np.linalg.norm(xy - p) > r + radius + 0.05 for p, r in taken):
                taken.append((xy, radius))
                out.append((float(xy[0]), float(xy[1])))
                break
        else:
            return None
    return out


def _zone(rng: np.random.Generator, opts: SamplingOptions, taken: list[tuple[np.ndarray, float]]):
    for _ in range(200):
        xy = np.array([rng.uniform(*opts.place_x), rng.uniform(*opts.place_y)])
        if _keep_out(xy, cat.ZONE_HALF) or any(
            np.linalg.norm(xy - p) < r + cat.ZONE_HALF * 1.5 + 0.02 for p, r in taken
        ):
            continue
        return float(xy[0]), float(xy[1])
    return None


def sample_episode(seed: int, opts: SamplingOptions, shifts: dict[str, int] | None = None) -> EpisodeSpec:
    """Deterministic in (seed, opts). Distractors come from a separate stream so that they never move
    the task objects."""
    rng = np.random.default_rng(seed)
    for _attempt in range(100):
        try_sample = _try_sample_spatial if opts.blocks else _try_sample
        spec = try_sample(seed, rng, opts, shifts or {})
        if spec is not None:
            return _resize(spec, opts.resize) if opts.resize else spec
    raise RuntimeError(f"could not sample a feasible episode for seed {seed} with {opts}")


def _try_sample(seed, rng, opts: SamplingOptions, shifts) -> EpisodeSpec | None:
    length = int(opts.chain_lengths[int(rng.integers(len(opts.chain_lengths)))])
    n_movable = int(rng.integers(3, 7))
    cubes = [s.slot for s in cat.SLOTS if s.shape == "cube"]
    cyls = [s.slot for s in cat.SLOTS if s.shape == "cylinder"]
    recepts = [s.slot for s in cat.SLOTS if s.receptacle]
    chosen = list(rng.choice(cubes, size=2, replace=False)) + [
        str(rng.choice(cyls)),
        str(rng.choice(recepts)),
    ]
    pool = [s for s in cubes + cyls + recepts if s not in chosen]
    extra = max(0, n_movable - len(chosen))
    chosen += [str(s) for s in rng.choice(pool, size=min(extra, len(pool)), replace=False)]
    colours = rng.permutation(list(opts.colours))[: len(chosen)]
    names = {
        f"{c} {cat.SLOT_BY_NAME[s].shape}": cat.SLOT_BY_NAME[s].shape
        for s, c in zip(chosen, colours, strict=True)
    }
    drawer_open = bool(rng.random() < 0.5)
    chain = sample_chain(names, length, drawer_open, rng, opts.combos)
    if chain is None:
        return None
    taken: list[tuple[np.ndarray, float]] = []
    xys = _place([str(s) for s in chosen], rng, opts, taken)
    if xys is None:
        return None
    zone = _zone(rng, opts, taken)
    if zone is None:
        return None
    if not _pushes_clear(chain, names, [str(s) for s in chosen], colours, xys, zone, opts.clear_push_paths):
        return None
    objects = [
        PlacedObject(str(s), str(c), xy, float(rng.uniform(-np.pi / 4, np.pi / 4)))
        for s, c, xy in zip(chosen, colours, xys, strict=True)
    ]
    objects += _distractors(seed, opts, chosen, [str(c) for c in colours], taken)
    preps = {o.name: ("in" if cat.SLOT_BY_NAME[o.slot].shape == "bowl" else "on") for o in objects}
    subtasks = tuple(
        Subtask(s.kind, s.obj, s.target, canonical_text(s, preps.get(s.target or "", "on"))) for s in chain
    )
    instruction = instruction_for(list(subtasks), preps, rng, opts.heldout_paraphrases)
    spec = EpisodeSpec(seed, tuple(objects), drawer_open, zone, subtasks, instruction, dict(shifts))
    return _recolour(spec, opts.recolour) if opts.recolour else spec


def _recolour(spec: EpisodeSpec, count: int) -> EpisodeSpec:
    """Swap the first ``count`` objects' colours for held-out ones; poses and the chain stay."""
    unseen = [c for c in cat.HELDOUT_COLOURS if c not in {o.colour for o in spec.objects}]
    renames, objects = {}, []
    for i, o in enumerate(spec.objects):
        if i < count and i < len(unseen):
            new = dataclasses.replace(o, colour=unseen[i])
            renames[o.name] = new.name
            o = new
        objects.append(o)

    def rename(text: str | None) -> str | None:
        if text is None:
            return None
        for old, new in renames.items():
            text = text.replace(old, new)
        return text

    subtasks = tuple(Subtask(s.kind, rename(s.obj), rename(s.target), rename(s.text)) for s in spec.subtasks)
    return EpisodeSpec(
        spec.seed,
        tuple(objects),
        spec.drawer_open,
        spec.zone_xy,
        subtasks,
        rename(spec.instruction),
        spec.shifts,
    )


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip((p - a) @ ab / max(ab @ ab, 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def _pushes_clear(chain, names, slots, colours, xys, zone, fixtures: bool = False) -> bool:
    """Every pushed object has free room behind it and a clear path to the square (with ``fixtures``,
    clear of the drawer and the button too)."""
    where = {f"{c} {cat.SLOT_BY_NAME[s].shape}": (np.array(xy), cat.SLOT_BY_NAME[s].footprint)
             for s, c, xy in zip(slots, colours, xys, strict=True)}  # fmt: skip
    return _paths_clear(chain, where, zone, fixtures)


def _paths_clear(chain, where: dict[str, tuple[np.ndarray, float]], zone, fixtures: bool = False) -> bool:
    """``_pushes_clear`` over ``where``: object name -> (xy, footprint radius)."""
    zone = np.asarray(zone)
    for sub in chain:
        if sub.kind != "push":
            continue
        start, radius = where[sub.obj]
        d = (zone - start) / max(np.linalg.norm(zone - start), 1e-6)
        behind = start - d * (radius + 0.05)
        if _keep_out(behind, 0.03):
            return False
        for name, (xy, r) in where.items():
            if name != sub.obj and _segment_distance(xy, behind, zone) < r + radius + 0.02:
                return False
        if fixtures and any(_keep_out(behind + t * (zone - behind), radius) for t in np.linspace(0, 1, 41)):
            return False
    return True


def _distractors(seed, opts: SamplingOptions, chosen, colours, taken) -> list[PlacedObject]:
    if opts.n_distractors <= 0:
        return []
    rng = np.random.default_rng([seed, 7919])
    free = [s.slot for s in cat.SLOTS if s.slot not in chosen and s.graspable]
    free_colours = [c for c in cat.ALL_COLOURS if c not in colours]
    out = []
    for slot in rng.permutation(free)[: opts.n_distractors]:
        xy = _place([str(slot)], rng, opts, taken)
        if xy is None:
            continue
        colour = free_colours[len(out) % len(free_colours)]
        out.append(PlacedObject(str(slot), colour, xy[0], float(rng.uniform(-0.7, 0.7)), distractor=True))
    return out


# ---- spatial scenes: blocks of different heights, one named by height in every chain ----------------
def _try_sample_spatial(seed, rng, opts: SamplingOptions, shifts) -> EpisodeSpec | None:
    """A scene of a receptacle, ``opts.blocks`` blocks (cube slots resized to sampled heights) and one
    or two cubes to move; the chain puts a cube on a block named
    by height ("the highest block") and fills the rest of its length with the usual steps."""
    length = int(opts.chain_lengths[int(rng.integers(len(opts.chain_lengths)))])
    cubes = [s.slot for s in cat.SLOTS if s.shape == "cube"]
    recepts = [s.slot for s in cat.SLOTS if s.receptacle]
    order = [str(s) for s in rng.permutation(cubes)]
    blocks, movers = order[: opts.blocks], order[opts.blocks : opts.blocks + int(rng.integers(1, 3))]
    if not movers:
        return None
    chosen = [str(rng.choice(recepts)), *blocks, *movers]  # the largest first: it is the hardest to place
    colours = [str(c) for c in rng.permutation(list(opts.colours))[: len(chosen)]]
    if len(colours) < len(chosen):
        return None
    sizes = dict(
        zip(blocks, (spatial.block_size(t) for t in spatial.sample_block_tops(rng, opts.blocks)), strict=True)
    )
    labels = {s: (cat.BLOCK_NOUN if s in sizes else cat.SLOT_BY_NAME[s].shape) for s in chosen}
    names = {f"{c} {labels[s]}": labels[s] for s, c in zip(chosen, colours, strict=True)}
    drawer_open = bool(rng.random() < 0.5)
    chain = _spatial_chain(names, length, drawer_open, rng, opts.combos)
    if chain is None:
        return None
    slot_infos = {
        s: cat.SLOT_BY_NAME[s].resized(sizes[s]) if s in sizes else cat.SLOT_BY_NAME[s] for s in chosen
    }
    footprints = {s: info.footprint for s, info in slot_infos.items()}
    taken: list[tuple[np.ndarray, float]] = []
    zone = _zone(rng, opts, taken)  # first, on the empty table: six objects leave little room for it
    if zone is None:
        return None
    taken.append((np.asarray(zone), cat.ZONE_HALF * 1.5 + 0.02 - 0.05))  # the clearance _zone keeps
    xys = _place(chosen, rng, opts, taken, footprints)
    if xys is None:
        return None
    where = {
        f"{c} {labels[s]}": (np.array(xy), footprints[s])
        for s, c, xy in zip(chosen, colours, xys, strict=True)
    }
    if not _paths_clear(chain, where, zone, opts.clear_push_paths):
        return None
    objects = [
        PlacedObject(
            s, c, xy, float(rng.uniform(-np.pi / 4, np.pi / 4)),
            noun=cat.BLOCK_NOUN if s in sizes else None, size=sizes.get(s),
        )
        for s, c, xy in zip(chosen, colours, xys, strict=True)
    ]  # fmt: skip
    objects += _distractors(seed, opts, chosen, colours, taken)
    preps = {o.name: ("in" if o.label == "bowl" else "on") for o in objects}
    subtasks = tuple(
        Subtask(s.kind, s.obj, s.target, canonical_text(s, preps.get(s.target or "", "on"))) for s in chain
    )
    instruction = instruction_for(list(subtasks), preps, rng, opts.heldout_paraphrases)
    spec = EpisodeSpec(seed, tuple(objects), drawer_open, zone, subtasks, instruction, dict(shifts))
    return _recolour(spec, opts.recolour) if opts.recolour else spec


def _spatial_chain(
    names: dict[str, str], length: int, drawer_open: bool, rng: np.random.Generator, combos: str
) -> list[Subtask] | None:
    """A chain of ``length`` subtasks with a pick and a stack on a block named by height at a random
    step boundary; the other steps come from :func:`sample_chain` (another such stack included)."""
    movers = [n for n, shape in names.items() if shape == "cube"]
    obj = movers[int(rng.integers(len(movers)))]
    relation = list(spatial.RELATIONS)[int(rng.integers(len(spatial.RELATIONS)))]
    step = [Subtask("pick", obj), Subtask("stack", obj, relation)]
    state = _ChainState(drawer_open)
    _apply(state, tuple(step))
    rest = sample_chain(names, length - 2, drawer_open, rng, combos, state) if length > 2 else []
    if rest is None:
        return None
    # Step boundaries: never after a pick (of a pick and place/stack, or of a last, lone pick).
    cuts = [i for i in range(len(rest) + 1) if i == 0 or rest[i - 1].kind != "pick"]
    at = cuts[int(rng.integers(len(cuts)))]
    return rest[:at] + step + rest[at:]


def _resize(spec: EpisodeSpec, level: int) -> EpisodeSpec:
    """The size shift at ``level``: objects resized (:mod:`hivla.sim.spatial`); poses and words stay."""
    factors = spatial.size_factors(spec.seed, [o.label for o in spec.objects], level)
    objects = tuple(
        o if f == 1.0 else dataclasses.replace(o, size=spatial.scaled_size(o.slot_info.size, o.label, f))
        for o, f in zip(spec.objects, factors, strict=True)
    )
    return dataclasses.replace(spec, objects=objects)
