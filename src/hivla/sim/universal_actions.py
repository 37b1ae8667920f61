"""The universal-action side every benchmark env shares: native <-> universal through its embodiment."""

from __future__ import annotations

from typing import Any

import numpy as np

from hivla.types import check_universal_action


class UniversalActions:
    """Mixed into an env that has ``embodiment`` (``to_universal``, ``from_universal``, ``clip``), a
    ``_validate(native)`` check and ``step(native)``."""

    embodiment: Any

    def to_universal(self, native: np.ndarray) -> np.ndarray:
        return self.embodiment.to_universal(self._validate(native))

    def from_universal(self, universal: np.ndarray) -> np.ndarray:
        u = check_universal_action(universal)
        return self.embodiment.clip(self.embodiment.from_universal(u)).astype(np.float32)

    def step_universal(self, universal: np.ndarray) -> Any:
        return self.step(self.from_universal(universal))
