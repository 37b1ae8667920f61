"""A safety filter on commanded actions: NaN/inf guard, limits, workspace box, rate limit, e-stop.

The filter is a wrapper step between the policy (or chunk broker) and the robot. Whatever the
input, including NaN, inf and huge values, every emitted value lies within
``[action_low, action_high]`` (the last step is a clip in float32 against float32 limits).
Each intervention is counted by kind in ``SafetyFilter.interventions``.

Order of the steps for one action (later steps win where they conflict):

1. e-stop latched: emit the hold action, nothing else ("estop");
2. any non-finite value (or a non-finite end-effector position): replace by the hold action
   ("nonfinite");
3. clip to the action limits ("clip");
4. rate limit: |a - previous emitted action| <= max_delta per dimension ("rate");
5. workspace: for the xyz delta dims, clamp the delta so ee + delta stays inside the box
   ("workspace");
6. clip to the action limits again (counts as "clip" if it changes anything).

So the limits always hold; the workspace holds whenever the end effector starts inside the
box and the limits contain 0 on the xyz dims; the rate limit yields to both when they conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

INTERVENTION_KINDS: tuple[str, ...] = ("nonfinite", "clip", "workspace", "rate", "estop")


def _vector(name: str, value: Any, size: int | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float32).reshape(-1) if np.ndim(value) <= 1 else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or (size is not None and arr.shape != (size,)) or arr.size == 0:
        expected = f"float[{size}]" if size is not None else "a non-empty 1-D float array"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class SafetyConfig:
    """Limits for one embodiment. Arrays are stored as read-only float32.

    ``action_low``/``action_high``: float[A] per-dimension command limits.
    ``max_delta``: None, a scalar or float[A]; the largest change per step vs the previous emitted action.
    ``workspace_low``/``workspace_high``: None or float[3]; the end-effector box (both or neither).
    ``xyz_slice``: which action dims are the end-effector xyz deltas (a slice or 3 indices).
    ``hold_action``: what to emit on NaN/inf and e-stop; default 0 (no motion) clipped into the limits.
    """

    action_low: Any
    action_high: Any
    max_delta: Any = None
    workspace_low: Any = None
    workspace_high: Any = None
    xyz_slice: slice | tuple[int, ...] = field(default_factory=lambda: slice(0, 3))
    hold_action: Any = None
    xyz_indices: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        low = _vector("action_low", self.action_low)
        high = _vector("action_high", self.action_high, low.size)
        if np.any(low > high):
            raise ValueError(
                f"need action_low <= action_high per dimension, got {low.tolist()} > {high.tolist()}"
            )
        dim = low.size
        set_ = object.__setattr__
        set_(self, "action_low", low)
        set_(self, "action_high", high)
        if self.max_delta is not None:
            delta = _vector(
                "max_delta", np.broadcast_to(np.asarray(self.max_delta, dtype=np.float32), (dim,)), dim
            )
            if np.any(delta <= 0):
                raise ValueError(f"max_delta must be > 0 in every dimension, got {delta.tolist()}")
            set_(self, "max_delta", delta)
        if (self.workspace_low is None) != (self.workspace_high is None):
            raise ValueError("give both workspace_low and workspace_high (float[3]) or neither")
        if self.workspace_low is not None:
            wlow = _vector("workspace_low", self.workspace_low, 3)
            whigh = _vector("workspace_high", self.workspace_high, 3)
            if np.any(wlow > whigh):
                raise ValueError(
                    f"need workspace_low <= workspace_high, got {wlow.tolist()} > {whigh.tolist()}"
                )
            set_(self, "workspace_low", wlow)
            set_(self, "workspace_high", whigh)
        set_(self, "xyz_indices", self._resolve_xyz(dim))
        hold = np.clip(np.zeros(dim, np.float32), low, high) if self.hold_action is None else self.hold_action
        hold = _vector("hold_action", hold, dim)
        if np.any(hold < low) or np.any(hold > high):
            raise ValueError(f"hold_action {hold.tolist()} must lie within [action_low, action_high]")
        set_(self, "hold_action", hold)

    def _resolve_xyz(self, dim: int) -> tuple[int, ...]:
        if isinstance(self.xyz_slice, slice):
            indices = tuple(range(dim))[self.xyz_slice]
        else:
            try:
                indices = tuple(int(i) for i in self.xyz_slice)
            except (TypeError, ValueError):
                raise ValueError(f"xyz_slice must be a slice or 3 indices, got {self.xyz_slice!r}") from None
        if len(indices) != 3 or len(set(indices)) != 3 or not all(0 <= i < dim for i in indices):
            raise ValueError(
                f"xyz_slice must select 3 distinct action dims in [0, {dim}), got {self.xyz_slice!r} -> {indices}"
            )
        return indices

    @property
    def action_dim(self) -> int:
        return int(self.action_low.size)

    @property
    def has_workspace(self) -> bool:
        return self.workspace_low is not None

    @classmethod
    def from_embodiment(cls, embodiment: Any, **kwargs: Any) -> SafetyConfig:
        """Build from an object exposing ``action_low``, ``action_high`` and optionally
        ``workspace_low``/``workspace_high`` (or ``workspace = (low, high)``); kwargs override."""
        values: dict[str, Any] = {"action_low": embodiment.action_low, "action_high": embodiment.action_high}
        if getattr(embodiment, "workspace_low", None) is not None:
            values["workspace_low"] = embodiment.workspace_low
            values["workspace_high"] = embodiment.workspace_high
        elif getattr(embodiment, "workspace", None) is not None:
            values["workspace_low"], values["workspace_high"] = embodiment.workspace
        values.update(kwargs)
        return cls(**values)


class SafetyFilter:
    """Stateful step filter over actions float[A] or float[B, A] (see the module docstring).

    ``step(action, ee_pos)`` filters the action about to be executed and remembers it for the
    rate limit; ``filter_chunk`` filters a planned chunk as a trajectory. ``estop()`` latches an
    emergency stop: the hold action is emitted until ``release_estop()`` (``reset()`` for a new
    episode does not release it). ``interventions`` counts, per kind, the actions (rows) changed.
    """

    def __init__(self, config: SafetyConfig) -> None:
        if not isinstance(config, SafetyConfig):
            raise ValueError(f"SafetyFilter needs a SafetyConfig, got {config!r}")
        self.config = config
        self.interventions: dict[str, int] = dict.fromkeys(INTERVENTION_KINDS, 0)
        self._last: np.ndarray | None = None  # (B, A) last emitted action, float32
        self._estopped = False

    # -- state ----------------------------------------------------------------------------------
    @property
    def estopped(self) -> bool:
        return self._estopped

    @property
    def last_action(self) -> np.ndarray | None:
        """The last emitted action float32[B, A] (the rate-limit reference), or None."""
        return None if self._last is None else self._last.copy()

    def estop(self) -> None:
        """Latch the emergency stop: every later action is the hold action until released."""
        self._estopped = True

    def release_estop(self) -> None:
        self._estopped = False

    def reset(self) -> None:
        """Forget the previous action (new episode). A latched e-stop stays latched."""
        self._last = None

    def reset_counts(self) -> None:
        self.interventions = dict.fromkeys(INTERVENTION_KINDS, 0)

    def set_last_action(self, action: Any) -> None:
        """Tell the filter which action was actually executed last (float[A] or float[B, A])."""
        self._last = self._rows(action, "action").astype(np.float32)

    # -- filtering ------------------------------------------------------------------------------
    def step(self, action: Any, ee_pos: Any = None) -> np.ndarray:
        """Filter one action float[A] (or float[B, A]) given the end-effector position float[3]
        (or float[B, 3]; needed only with a workspace). Returns float32 of the input's shape."""
        rows = self._rows(action, "action")
        ee = self._ee_rows(ee_pos, rows.shape[0])
        out = self._filter(rows, self._reference(rows.shape[0]), ee)
        self._last = out
        return out[0] if np.ndim(action) == 1 else out

    def filter_chunk(self, chunk: Any, ee_pos: Any = None, commit_steps: int | None = None) -> np.ndarray:
        """Filter a chunk float[H, A] (or float[B, H, A]) as the trajectory executed from now.

        The rate limit runs from the last emitted action through the chunk; the workspace check
        integrates the xyz deltas from ``ee_pos``. With ``commit_steps = k`` the filter then
        remembers action k-1 of the filtered chunk as executed (use the chunk broker's k).
        """
        arr = np.asarray(chunk, dtype=np.float64)
        if arr.ndim not in (2, 3) or arr.shape[-1] != self.config.action_dim or 0 in arr.shape:
            raise ValueError(
                f"chunk must be float[H, {self.config.action_dim}] or float[B, H, A], got {arr.shape}"
            )
        batched = arr if arr.ndim == 3 else arr[None]  # (B, H, A)
        ee = self._ee_rows(ee_pos, batched.shape[0])
        last = self._reference(batched.shape[0])
        idx = list(self.config.xyz_indices)
        out = np.empty(batched.shape, dtype=np.float32)  # (B, H, A)
        for h in range(batched.shape[1]):
            out[:, h] = last = self._filter(batched[:, h], last, ee)
            if ee is not None:
                ee = ee + out[:, h, idx].astype(np.float64)  # (B, 3) position after this step
        if commit_steps is not None:
            if not 1 <= commit_steps <= out.shape[1]:
                raise ValueError(f"commit_steps must be in [1, {out.shape[1]}], got {commit_steps}")
            self._last = out[:, commit_steps - 1].copy()
        return out if arr.ndim == 3 else out[0]

    # -- internals ------------------------------------------------------------------------------
    def _rows(self, action: Any, name: str) -> np.ndarray:
        try:
            arr = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name} must be a float array [A] or [B, A], got {action!r}") from None
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.config.action_dim or arr.size == 0:
            raise ValueError(
                f"{name} must have shape [{self.config.action_dim}] or [B, {self.config.action_dim}], got {arr.shape}"
            )
        return arr.reshape(-1, self.config.action_dim)  # (B, A)

    def _ee_rows(self, ee_pos: Any, batch: int) -> np.ndarray | None:
        if not self.config.has_workspace:
            return None
        if ee_pos is None:
            raise ValueError(
                "this SafetyConfig has a workspace box: pass ee_pos, the end-effector xyz float[3]"
            )
        ee = np.asarray(ee_pos, dtype=np.float64)
        if ee.shape not in ((3,), (batch, 3)):
            raise ValueError(f"ee_pos must have shape (3,) or ({batch}, 3), got {ee.shape}")
        return np.broadcast_to(ee, (batch, 3)).copy()  # (B, 3)

    def _reference(self, batch: int) -> np.ndarray | None:
        if self._last is not None and self._last.shape[0] != batch:
            raise ValueError(f"batch size changed from {self._last.shape[0]} to {batch}; call reset() first")
        return self._last

    def _count(self, kind: str, changed: np.ndarray) -> None:
        self.interventions[kind] += int(np.count_nonzero(changed))

    def _filter(self, rows: np.ndarray, last: np.ndarray | None, ee: np.ndarray | None) -> np.ndarray:
        """rows float64[B, A], last float32[B, A] | None, ee float64[B, 3] | None -> float32[B, A]."""
        cfg = self.config
        low, high = cfg.action_low.astype(np.float64), cfg.action_high.astype(np.float64)
        batch = rows.shape[0]
        hold = np.broadcast_to(cfg.hold_action.astype(np.float64), rows.shape)  # (B, A)
        if self._estopped:
            self._count("estop", np.ones(batch, bool))
            return np.broadcast_to(cfg.hold_action, rows.shape).copy()
        bad = ~np.all(np.isfinite(rows), axis=1)  # (B,)
        bad_ee = np.zeros(batch, bool) if ee is None else ~np.all(np.isfinite(ee), axis=1)  # (B,)
        self._count("nonfinite", bad | bad_ee)
        a = np.where((bad | bad_ee)[:, None], hold, rows)  # (B, A)

        clipped = np.clip(a, low, high)
        clip_rows = np.any(clipped != a, axis=1)  # (B,)
        a = clipped
        if cfg.max_delta is not None and last is not None:
            ref = last.astype(np.float64)
            delta = cfg.max_delta.astype(np.float64)
            limited = np.clip(a, ref - delta, ref + delta)
            self._count("rate", np.any(limited != a, axis=1))
            a = limited
        if ee is not None:
            a = self._workspace(a, ee, ~bad_ee)
        final = np.clip(a, low, high)  # (B, A) float64
        clip_rows |= np.any(final != a, axis=1)
        out = np.clip(final.astype(np.float32), cfg.action_low, cfg.action_high)  # float32 rounding guard
        self._count("clip", clip_rows)
        return out

    def _workspace(self, a: np.ndarray, ee: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Clamp the xyz deltas of a float64[B, A] so that ee + delta stays in the box (valid rows)."""
        cfg = self.config
        idx = list(cfg.xyz_indices)
        wlow, whigh = cfg.workspace_low.astype(np.float64), cfg.workspace_high.astype(np.float64)
        target = ee + a[:, idx]  # (B, 3)
        outside = ((target < wlow) | (target > whigh)) & valid[:, None]  # (B, 3)
        if not outside.any():
            return a
        a = a.copy()
        a[:, idx] = np.where(outside, np.clip(target, wlow, whigh) - ee, a[:, idx])
        self._count("workspace", np.any(outside, axis=1))
        return a
