"""Language augmentation: rephrase the simulator's texts with its training paraphrases.

The simulator words every subtask with the templates of ``hivla.sim.language.TEMPLATES`` and joins
the phrases of an instruction with ``CONNECTORS``; the last template of each list (and the last
connector) is held out for the ``paraphrase`` shift. :func:`parse_text` reads a text back into its
phrases (kind, object, target, preposition, template used) whatever template wrote it, and
:func:`rephrase` writes the same content again with templates and connectors drawn from the
training ones only, so a held-out wording never reaches training:

    rephrase("place the red cube in the bowl", rng)   # -> e.g. "move the red cube in the bowl"
    rephrase("Pick up the red cube, then open the drawer.", rng)
                                                      # -> e.g. "Lift the red cube and then pull the drawer open."

A canonical subtask text (``info['subtasks']``, the low level's ``subtask`` key) stays one phrase in
lower case; an instruction (the ``task`` key: capital letter and full stop) stays an instruction.
Texts the templates did not write (a dataset recorded elsewhere) are returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hivla.sim.language import CONNECTORS, TEMPLATES

_SLOTS = {"obj": r"(?P<obj>.+?)", "target": r"(?P<target>.+?)", "prep": r"(?P<prep>in|on)"}


@dataclass(frozen=True)
class Phrase:
    """One step phrase read back: its kind, arguments and the index of the template in
    ``TEMPLATES[kind]`` that wrote it (the last index is the held-out one)."""

    kind: str
    obj: str | None
    target: str | None
    prep: str
    template: int

    @property
    def heldout(self) -> bool:
        return self.template == len(TEMPLATES[self.kind]) - 1

    def render(self, template: int) -> str:
        return TEMPLATES[self.kind][template].format(obj=self.obj, target=self.target, prep=self.prep)


@dataclass(frozen=True)
class ParsedText:
    """A text read back: its phrases, the indices in ``CONNECTORS`` joining them, and whether it was
    written as an instruction (capital letter, full stop) or as a bare subtask phrase."""

    phrases: tuple[Phrase, ...]
    connectors: tuple[int, ...]
    instruction: bool

    @property
    def heldout(self) -> bool:
        """True when any phrase or connector is a held-out wording."""
        last = len(CONNECTORS) - 1
        return any(p.heldout for p in self.phrases) or any(c == last for c in self.connectors)


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(obj|target|prep)\}", template)  # literal, slot, literal, ...
    body = "".join(_SLOTS[p] if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"^{body}$")


def _literal_length(template: str) -> int:
    return len(re.sub(r"\{(obj|target|prep)\}", "", template))


# Most literal text first: "put the {obj} on top of the {target}" (stack) is tried before
# "put the {obj} {prep} the {target}" (place), so a match is the most specific template.
_PATTERNS = sorted(
    ((kind, i, _compile(t)) for kind, ts in TEMPLATES.items() for i, t in enumerate(ts)),
    key=lambda k_i_p: -_literal_length(TEMPLATES[k_i_p[0]][k_i_p[1]]),
)
_CONNECTOR = re.compile("|".join(re.escape(c) for c in sorted(CONNECTORS, key=len, reverse=True)))


def parse_phrase(text: str) -> Phrase | None:
    """One lower-case step phrase -> :class:`Phrase`, or None if no template writes it."""
    for kind, index, pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            g = m.groupdict()
            return Phrase(kind, g.get("obj"), g.get("target"), g.get("prep") or "in", index)
    return None


def parse_text(text: str) -> ParsedText | None:
    """A subtask text or an instruction written by the simulator's templates -> its phrases and
    connectors; None when any part is not theirs."""
    clean = text.strip()
    instruction = clean.endswith(".")
    body = clean.rstrip(".").lower()
    if not body:
        return None
    spans, connectors, start = [], [], 0
    for m in _CONNECTOR.finditer(body):
        spans.append(body[start : m.start()])
        connectors.append(CONNECTORS.index(m.group()))
        start = m.end()
    spans.append(body[start:])
    phrases = [parse_phrase(s) for s in spans]
    if any(p is None for p in phrases):
        return None
    return ParsedText(tuple(phrases), tuple(connectors), instruction)  # type: ignore[arg-type]


def _training_index(options: Sequence[str], rng: np.random.Generator) -> int:
    return int(rng.integers(len(options) - 1))  # never the last (held-out) one


def rephrase(text: str, rng: np.random.Generator) -> str:
    """``text`` with every phrase and connector redrawn from the training paraphrases (the same
    content, possibly the same words); unchanged when the templates did not write it."""
    parsed = parse_text(text)
    if parsed is None:
        return text
    out = parsed.phrases[0].render(_training_index(TEMPLATES[parsed.phrases[0].kind], rng))
    for phrase in parsed.phrases[1:]:
        out += CONNECTORS[_training_index(CONNECTORS, rng)]
        out += phrase.render(_training_index(TEMPLATES[phrase.kind], rng))
    return out[0].upper() + out[1:] + "." if parsed.instruction else out


def paraphrase_texts(texts: Sequence[str], p: float, rng: np.random.Generator) -> list[str]:
    """A new list: each text replaced by :func:`rephrase` with probability ``p`` (per text)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"paraphrase probability must be within [0, 1], got {p}")
    draw = rng.random(len(texts)) < p
    return [rephrase(str(t), rng) if d else str(t) for t, d in zip(texts, draw, strict=True)]
