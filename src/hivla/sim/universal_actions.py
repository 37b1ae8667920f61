"""The universal-action side every benchmark env shares: native <-> universal through its embodiment."""

from __future__ import annotations

from typing import Any

import numpy as np

from hivla.types import universal_for_body


class UniversalActions:
    """Mixed into an env that has ``embodiment`` (``to_universal``, ``from_universal``, ``clip``,
    ``has_base``), a ``_validate(native)`` check and ``step(native)``.

    ``from_universal`` takes 7 or 10 values (``hivla.types``): a body without a base drops the base
    part, a body with one keeps its base still when given 7."""

    embodiment: Any

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        return self.embodiment.to_universal(self._validate(native))

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        u = universal_for_body(universal, bool(getattr(self.embodiment, "has_base", False)))
        return self.embodiment.clip(self.embodiment.from_universal(u)).astype(np.float32)

    def step_universal(self, universal: np.ndarray) -> Any:
        return self.step(self.from_universal(universal))
