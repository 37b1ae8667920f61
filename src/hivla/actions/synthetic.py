"""Synthetic smooth action chunks for tests and benchmarks (clearly not robot data)."""

from __future__ import annotations

import numpy as np


def smooth_chunks(
    n: int, horizon: int = 50, action_dim: int = 7, seed: int = 0, gripper: bool = True
) -> np.ndarray:
    """SYNTHETIC chunks float32[n, horizon, action_dim]: per dimension a sum of three random
    low-frequency sinusoids plus a random offset; with ``gripper`` the last dimension is a
    binary +-1 signal that switches at most once per chunk, like a gripper command."""
    if n < 1 or horizon < 1 or action_dim < 1:
        raise ValueError(f"need n, horizon, action_dim >= 1, got {n}, {horizon}, {action_dim}")
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, horizon)[None, :, None, None]  # (1, H, 1, 1)
    freq = rng.uniform(0.1, 2.0, (n, 1, action_dim, 3))  # cycles per chunk
    phase = rng.uniform(0.0, 2 * np.pi, (n, 1, action_dim, 3))
    amp = rng.uniform(0.0, 1.0, (n, 1, action_dim, 3)) / np.arange(1, 4)  # weaker higher terms
    chunks = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1)  # (n, H, A)
    chunks += rng.normal(0.0, 0.3, (n, 1, action_dim))  # per-chunk offset
    if gripper and action_dim > 1:
        switch = rng.integers(0, 2 * horizon, n)  # a step >= horizon means no switch
        start = rng.choice([-1.0, 1.0], n)
        steps = np.arange(horizon)[None, :]  # (1, H)
        chunks[:, :, -1] = np.where(steps < switch[:, None], start[:, None], -start[:, None])  # (n, H)
    return chunks.astype(np.float32)
