"""Which dataset columns a policy reads: its cameras, state and action, by name.

hivla datasets use hivla's names (``observation.images.front``, ``observation.state``, ``action``);
a LeRobot dataset recorded elsewhere names its cameras after its robot (``observation.images.laptop``)
and may name state or action otherwise. ``KeyMap.parse("front=observation.images.laptop")`` maps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hivla.data import format as fmt
from hivla.errors import HivlaError
from hivla.types import CAMERAS

INPUTS = (*CAMERAS, "state", "action")


class KeyMapError(HivlaError, ValueError):
    """A ``--data-keys`` mapping that cannot be used."""


@dataclass(frozen=True)
class KeyMap:
    """cameras: (camera, feature) pairs; state/action: the columns read as state and action."""

    cameras: tuple[tuple[str, str], ...] = ()
    state: str = fmt.STATE
    action: str = fmt.ACTION

    @classmethod
    def parse(cls, spec: str) -> KeyMap:
        """``"front=observation.images.laptop,state=observation.joints"`` -> KeyMap (empty: identity).

        Raises :class:`KeyMapError` (a ValueError) for a malformed entry, an unknown input name or an
        input named twice.
        """
        pairs: dict[str, str] = {}
        for entry in (e.strip() for e in spec.split(",") if e.strip()):
            name, sep, column = (p.strip() for p in entry.partition("="))
            if not sep or not name or not column:
                raise KeyMapError(
                    f"data key {entry!r} is not NAME=COLUMN (e.g. front=observation.images.laptop)"
                )
            if name not in INPUTS:
                raise KeyMapError(f"data key {entry!r}: unknown input {name!r}; inputs: {', '.join(INPUTS)}")
            if name in pairs:
                raise KeyMapError(f"data key {name!r} is mapped twice in {spec!r}")
            pairs[name] = column
        cams = tuple((c, pairs[c]) for c in CAMERAS if c in pairs)
        return cls(cams, pairs.get("state", fmt.STATE), pairs.get("action", fmt.ACTION))

    @property
    def is_identity(self) -> bool:
        return self == KeyMap()
