"""Instruction templates with paraphrases. The last template of each list is held out: training
suites never use it; the ``paraphrase`` shift uses only it."""

from __future__ import annotations

import numpy as np

from hivla.types import Subtask

# Phrases for one step of a chain. A pick immediately followed by its place/stack is phrased as one.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick": ("pick up the {obj}", "grab the {obj}", "lift the {obj}", "take hold of the {obj} and raise it"),
    "place": (
        "put the {obj} {prep} the {target}",
        "place the {obj} {prep} the {target}",
        "move the {obj} {prep} the {target}",
        "set the {obj} down {prep} the {target}",
    ),
    "stack": (
        "stack the {obj} on the {target}",
        "put the {obj} on top of the {target}",
        "place the {obj} onto the {target}",
        "pile the {obj} on the {target}",
    ),
    "push": (
        "push the {obj} into the square",
        "slide the {obj} onto the marked square",
        "shove the {obj} to the square",
        "nudge the {obj} over into the square",
    ),
    "open_drawer": ("open the drawer", "pull the drawer open", "slide the drawer out", "get the drawer open"),
    "close_drawer": (
        "close the drawer",
        "push the drawer shut",
        "slide the drawer closed",
        "shut the drawer",
    ),
    "press_button": ("press the button", "depress the button", "hit the button", "give the button a press"),
}
CONNECTORS: tuple[str, ...] = (", then ", " and then ", ", after that ", ", followed by a step where you ")


def canonical_text(sub: Subtask, prep: str = "in") -> str:
    """The subtask in words as listed in ``info['subtasks']`` (always the first template)."""
    if sub.kind == "place":
        return f"place the {sub.obj} {prep} the {sub.target}"
    if sub.kind == "stack":
        return f"stack the {sub.obj} on the {sub.target}"
    return TEMPLATES[sub.kind][0].format(obj=sub.obj, target=sub.target)


def _choose(options: tuple[str, ...], rng: np.random.Generator, heldout: bool) -> str:
    return options[-1] if heldout else options[int(rng.integers(len(options) - 1))]


def instruction_for(
    subtasks: list[Subtask], preps: dict[str, str], rng: np.random.Generator, heldout: bool
) -> str:
    """Compose an instruction from the chain; ``heldout`` selects the reserved paraphrases."""
    phrases: list[str] = []
    i = 0
    while i < len(subtasks):
        sub = subtasks[i]
        nxt = subtasks[i + 1] if i + 1 < len(subtasks) else None
        if sub.kind == "pick" and nxt is not None and nxt.kind in ("place", "stack") and nxt.obj == sub.obj:
            sub, i = nxt, i + 1
        template = _choose(TEMPLATES[sub.kind], rng, heldout)
        phrases.append(
            template.format(obj=sub.obj, target=sub.target, prep=preps.get(sub.target or "", "in"))
        )
        i += 1
    text = phrases[0]
    for phrase in phrases[1:]:
        text += _choose(CONNECTORS, rng, heldout) + phrase
    return text[0].upper() + text[1:] + "."
