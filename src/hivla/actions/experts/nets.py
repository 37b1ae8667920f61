"""Small networks shared by the continuous experts: a time embedding and a residual MLP."""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(
    t: torch.Tensor, dim: int, min_period: float = 4e-3, max_period: float = 4.0
) -> torch.Tensor:
    """Sine-cosine features of scalar times t float[B] in about [0, 1] -> float[B, dim].

    Periods are spaced geometrically between ``min_period`` and ``max_period`` so that both
    coarse and fine differences in t are visible (the transformer position encoding, applied to
    a continuous time as in diffusion models and pi0).
    """
    if dim % 2:
        raise ValueError(f"time embedding dim must be even, got {dim}")
    half = dim // 2
    exponent = torch.linspace(0.0, 1.0, half, device=t.device)
    periods = min_period * (max_period / min_period) ** exponent  # (half,)
    angles = 2 * math.pi * t.float()[:, None] / periods[None, :]  # (B, half)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)  # (B, dim)


class _Block(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, hidden))

    def forward(self, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        x = self.norm(h)
        if context is not None:
            x = x + context
        return h + self.ff(x)


class ResidualMLP(nn.Module):
    """x float[B, in_dim] (+ context float[B, context_dim] added in every block) -> float[B, out_dim].

    The output layer starts at zero so an untrained model predicts 0 (a neutral start for
    velocities, noise and normalized actions alike).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int, depth: int, context_dim: int = 0) -> None:
        super().__init__()
        self.depth = depth
        self.inp = nn.Linear(in_dim, hidden)
        self.context = (
            nn.Sequential(nn.Linear(context_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden * depth))
            if context_dim
            else None
        )
        self.blocks = nn.ModuleList([_Block(hidden) for _ in range(depth)])
        self.out_norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, out_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = self.inp(x)  # (B, hidden)
        contexts: list[torch.Tensor | None] = [None] * self.depth
        if self.context is not None:
            if context is None:
                raise ValueError("this ResidualMLP was built with a context; pass one")
            contexts = list(self.context(context).chunk(self.depth, dim=-1))  # depth x (B, hidden)
        for block, ctx in zip(self.blocks, contexts, strict=True):
            h = block(h, ctx)
        return self.out(self.out_norm(h))  # (B, out_dim)
