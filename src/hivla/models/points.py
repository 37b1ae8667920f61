"""A small point-cloud encoder: world points float[B, N, 3] -> one token float[B, 1, dim].

PointNet (Qi et al. 2017): a shared per-point MLP, then a max over the valid points, so the token
does not depend on the points' order. Coordinates are centred on the workspace and scaled to about
unit size first.
"""

from __future__ import annotations

import torch
from torch import nn

WORKSPACE_CENTRE = (0.05, 0.0, 0.1)  # metres: the middle of the tabletop workspace
WORKSPACE_SCALE = 0.5  # metres mapped to 1


class PointNetEncoder(nn.Module):
    """Per-point MLP (3 -> hidden -> hidden) and a masked max-pool, then a linear map to ``dim``."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.point_mlp = nn.Sequential(nn.Linear(3, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())
        self.out = nn.Linear(hidden, dim)
        self.register_buffer("centre", torch.tensor(WORKSPACE_CENTRE), persistent=False)

    def forward(self, points: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """points float[B, N, 3] (metres, world frame), valid bool[B, N] -> float[B, 1, dim]; a cloud
        without a valid point gives the token of an empty set (zeros before the output map)."""
        x = (points - self.centre) / WORKSPACE_SCALE  # (B, N, 3)
        feats = self.point_mlp(x)  # (B, N, hidden)
        feats = feats.masked_fill(~valid[..., None], float("-inf"))
        pooled = feats.max(dim=1).values  # (B, hidden)
        pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
        return self.out(pooled)[:, None]  # (B, 1, dim)
