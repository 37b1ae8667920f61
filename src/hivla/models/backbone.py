"""The proprio encoder and the transformer backbone over [language, image, state, readout] tokens."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class BackboneConfig:
    """A pre-norm transformer encoder (Vaswani et al. 2017) of ``depth`` layers, width ``dim``.

    ``readouts``: learned query tokens whose outputs condition the action head (as the readout
    tokens of Octo; their flattened outputs are ``cond``).
    """

    dim: int = 128
    depth: int = 2
    heads: int = 4
    mlp_ratio: int = 4
    readouts: int = 2
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("dim", "depth", "heads", "mlp_ratio", "readouts"):
            if getattr(self, name) < 1:
                raise ValueError(f"backbone {name} must be >= 1, got {getattr(self, name)}")
        if self.dim % self.heads:
            raise ValueError(f"backbone dim {self.dim} must be divisible by heads {self.heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"backbone dropout must be in [0, 1), got {self.dropout}")


class ProprioEncoder(nn.Module):
    """Normalized state float[B, S] -> one token float[B, 1, dim] (two-layer MLP)."""

    def __init__(self, state_dim: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(state_dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state)[:, None]  # (B, 1, dim)


class TransformerBackbone(nn.Module):
    """tokens float[B, N, dim] + valid bool[B, N] -> (readouts float[B, R, dim], all float[B, N + R, dim]).

    The readout tokens are appended after the inputs; padding positions are masked out of attention.
    """

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            cfg.dim, cfg.heads, cfg.dim * cfg.mlp_ratio, cfg.dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.readout = nn.Parameter(torch.randn(cfg.readouts, cfg.dim) * 0.02)
        self.num_readouts = cfg.readouts

    def forward(self, tokens: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch = tokens.shape[0]
        readout = self.readout[None].expand(batch, -1, -1)  # (B, R, dim)
        x = torch.cat([tokens, readout], dim=1)  # (B, N + R, dim)
        pad = torch.cat([~valid, torch.zeros(batch, self.num_readouts, dtype=torch.bool, device=x.device)], 1)
        h = self.norm(self.encoder(x, src_key_padding_mask=pad))  # (B, N + R, dim)
        return h[:, -self.num_readouts :], h  # (B, R, dim), (B, N + R, dim)
