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
   ("workspace"); for a body with a wheeled base (``base_indices``), clamp the base velocity so the
   base stays inside its floor area over one step (also counted as "workspace"); a fixed body has none;
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
    ``base_indices``: None (a fixed body) or the 3 action dims of a wheeled base's velocity in its own
    frame (forward, left in m/s; turn in rad/s); then ``base_area_low``/``base_area_high`` float[2] are
    the world xy area its origin stays in and ``base_dt`` the seconds one action lasts.
    """

    action_low: Any
    action_high: Any
    max_delta: Any = None
    workspace_low: Any = None
    workspace_high: Any = None
    xyz_slice: slice | tuple[int, ...] = field(default_factory=lambda: slice(0, 3))
    hold_action: Any = None
    base_indices: tuple[int, ...] | None = None
    base_area_low: Any = None
    base_area_high: Any = None
    base_dt: float = 0.1
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
        self._check_base(dim)

    def _check_base(self, dim: int) -> None:
        if self.base_indices is None:
            if self.base_area_low is not None or self.base_area_high is not None:
                raise ValueError("a base area needs base_indices: the 3 action dims of the base velocity")
            return
        indices = tuple(int(i) for i in self.base_indices)
        if len(indices) != 3 or len(set(indices)) != 3 or not all(0 <= i < dim for i in indices):
            raise ValueError(
                f"base_indices must be 3 distinct action dims in [0, {dim}), got {self.base_indices!r}"
            )
        if self.base_area_low is None or self.base_area_high is None:
            raise ValueError(
                "a base (base_indices) needs its floor area: base_area_low and base_area_high float[2]"
            )
        low, high = (
            _vector("base_area_low", self.base_area_low, 2),
            _vector("base_area_high", self.base_area_high, 2),
        )
        if np.any(low > high):
            raise ValueError(f"need base_area_low <= base_area_high, got {low.tolist()} > {high.tolist()}")
        if not self.base_dt > 0:
            raise ValueError(f"base_dt (seconds per action) must be > 0, got {self.base_dt}")
        object.__setattr__(self, "base_indices", indices)
        object.__setattr__(self, "base_area_low", low)
        object.__setattr__(self, "base_area_high", high)

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

    @property
    def has_base(self) -> bool:
        """Whether the body has a wheeled base whose floor area the filter keeps (then ``step`` needs
        ``base_pose``)."""
        return self.base_indices is not None

    @classmethod
    def from_embodiment(cls, embodiment: Any, **kwargs: Any) -> SafetyConfig:
        """Build from an object exposing ``action_low``, ``action_high`` and optionally
        ``workspace_low``/``workspace_high`` (or ``workspace = (low, high)``) and, with ``has_base``,
        ``base_action_indices``, ``base_area_low``/``base_area_high`` and ``DT``; kwargs override."""
        values: dict[str, Any] = {"action_low": embodiment.action_low, "action_high": embodiment.action_high}
        if getattr(embodiment, "workspace_low", None) is not None:
            values["workspace_low"] = embodiment.workspace_low
            values["workspace_high"] = embodiment.workspace_high
        elif getattr(embodiment, "workspace", None) is not None and not callable(embodiment.workspace):
            values["workspace_low"], values["workspace_high"] = embodiment.workspace
        if getattr(embodiment, "has_base", False):
            values["base_indices"] = embodiment.base_action_indices
            values["base_area_low"], values["base_area_high"] = (
                embodiment.base_area_low,
                embodiment.base_area_high,
            )
            values["base_dt"] = float(embodiment.DT)
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
    def step(self, action: Any, ee_pos: Any = None, base_pose: Any = None) -> np.ndarray:
        """Filter one action float[A] (or float[B, A]) given the end-effector position float[3]
        (or float[B, 3]; needed only with a workspace) and the base pose (x, y, yaw) float[3] (or
        float[B, 3]; needed only with a base). Returns float32 of the input's shape."""
        rows = self._rows(action, "action")
        ee = self._ee_rows(ee_pos, rows.shape[0])
        base = self._base_rows(base_pose, rows.shape[0])
        out = self._filter(rows, self._reference(rows.shape[0]), ee, base)
        self._last = out
        return out[0] if np.ndim(action) == 1 else out

    def filter_chunk(
        self, chunk: Any, ee_pos: Any = None, commit_steps: int | None = None, base_pose: Any = None
    ) -> np.ndarray:
        """Filter a chunk float[H, A] (or float[B, H, A]) as the trajectory executed from now.

        The rate limit runs from the last emitted action through the chunk; the workspace check
        integrates the xyz deltas from ``ee_pos`` (and the base's velocities from ``base_pose``, with a
        base). With ``commit_steps = k`` the filter then
        remembers action k-1 of the filtered chunk as executed (use the chunk broker's k).
        """
        arr = np.asarray(chunk, dtype=np.float64)
        if arr.ndim not in (2, 3) or arr.shape[-1] != self.config.action_dim or 0 in arr.shape:
            raise ValueError(
                f"chunk must be float[H, {self.config.action_dim}] or float[B, H, A], got {arr.shape}"
            )
        batched = arr if arr.ndim == 3 else arr[None]  # (B, H, A)
        ee = self._ee_rows(ee_pos, batched.shape[0])
        base = self._base_rows(base_pose, batched.shape[0])
        last = self._reference(batched.shape[0])
        idx = list(self.config.xyz_indices)
        out = np.empty(batched.shape, dtype=np.float32)  # (B, H, A)
        for h in range(batched.shape[1]):
            out[:, h] = last = self._filter(batched[:, h], last, ee, base)
            if ee is not None:
                ee = ee + out[:, h, idx].astype(np.float64)  # (B, 3) position after this step
            if base is not None:
                base = self._drive(base, out[:, h].astype(np.float64))  # (B, 3) pose after this step
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

    def _base_rows(self, base_pose: Any, batch: int) -> np.ndarray | None:
        if not self.config.has_base:
            return None
        if base_pose is None:
            raise ValueError("this SafetyConfig has a wheeled base: pass base_pose, its (x, y, yaw) float[3]")
        pose = np.asarray(base_pose, dtype=np.float64)
        if pose.shape not in ((3,), (batch, 3)):
            raise ValueError(f"base_pose must have shape (3,) or ({batch}, 3), got {pose.shape}")
        return np.broadcast_to(pose, (batch, 3)).copy()  # (B, 3)

    def _world_velocity(self, a: np.ndarray, yaw: np.ndarray) -> np.ndarray:
        """The base's world-frame xy velocity float64[B, 2] of actions a float64[B, A] at yaw float[B]."""
        fwd, left, _ = self.config.base_indices
        c, s = np.cos(yaw), np.sin(yaw)
        return np.stack([c * a[:, fwd] - s * a[:, left], s * a[:, fwd] + c * a[:, left]], axis=1)

    def _drive(self, base: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The base pose float64[B, 3] after one action of each row of a float64[B, A]."""
        dt = self.config.base_dt
        out = base.copy()
        out[:, :2] += self._world_velocity(a, base[:, 2]) * dt
        out[:, 2] += a[:, self.config.base_indices[2]] * dt
        return out

    def _base_area(self, a: np.ndarray, base: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Clamp the base velocity of a float64[B, A] so the base stays in its floor area (valid rows)."""
        cfg = self.config
        dt, (fwd, left, _) = cfg.base_dt, cfg.base_indices
        low, high = cfg.base_area_low.astype(np.float64), cfg.base_area_high.astype(np.float64)
        xy = base[:, :2]  # a base found outside its area may stay or come back in, never go further
        target = xy + self._world_velocity(a, base[:, 2]) * dt  # (B, 2)
        outside = np.any((target < low) | (target > high), axis=1) & valid  # (B,)
        if not outside.any():
            return a
        world = (np.clip(target, np.minimum(low, xy), np.maximum(high, xy)) - xy) / dt  # (B, 2)
        c, s = np.cos(base[:, 2]), np.sin(base[:, 2])
        body = np.stack([c * world[:, 0] + s * world[:, 1], -s * world[:, 0] + c * world[:, 1]], axis=1)
        # Shrink (never turn) the clamped motion to the velocity limits: the area stays convex-safe.
        lim_low = cfg.action_low[[fwd, left]].astype(np.float64)
        lim_high = cfg.action_high[[fwd, left]].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(body > lim_high, lim_high / body, np.where(body < lim_low, lim_low / body, 1.0))
        body = body * np.clip(np.nan_to_num(room.min(axis=1), nan=0.0), 0.0, 1.0)[:, None]  # (B, 2)
        a = a.copy()
        a[:, fwd] = np.where(outside, body[:, 0], a[:, fwd])
        a[:, left] = np.where(outside, body[:, 1], a[:, left])
        self._count("workspace", outside)
        return a

    def _reference(self, batch: int) -> np.ndarray | None:
        if self._last is not None and self._last.shape[0] != batch:
            raise ValueError(f"batch size changed from {self._last.shape[0]} to {batch}; call reset() first")
        return self._last

    def _count(self, kind: str, changed: np.ndarray) -> None:
        self.interventions[kind] += int(np.count_nonzero(changed))

    def _filter(
        self, rows: np.ndarray, last: np.ndarray | None, ee: np.ndarray | None, base: np.ndarray | None = None
    ) -> np.ndarray:
        """rows float64[B, A], last float32[B, A] | None, ee float64[B, 3] | None, base float64[B, 3] |
        None -> float32[B, A]."""
        cfg = self.config
        low, high = cfg.action_low.astype(np.float64), cfg.action_high.astype(np.float64)
        batch = rows.shape[0]
        hold = np.broadcast_to(cfg.hold_action.astype(np.float64), rows.shape)  # (B, A)
        if self._estopped:
            self._count("estop", np.ones(batch, bool))
            return np.broadcast_to(cfg.hold_action, rows.shape).copy()
        bad = ~np.all(np.isfinite(rows), axis=1)  # (B,)
        bad_ee = np.zeros(batch, bool) if ee is None else ~np.all(np.isfinite(ee), axis=1)  # (B,)
        if base is not None:
            bad_ee |= ~np.all(np.isfinite(base), axis=1)
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
        if base is not None:
            a = self._base_area(a, base, ~bad_ee)
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
