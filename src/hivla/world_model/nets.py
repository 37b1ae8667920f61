"""Networks of the world models: observation encoder, action-conditioned predictor, frame decoder, heads.

A latent is ``[v, s]`` float[..., D + S]: a layer-normalized visual embedding v float[..., D] (no
affine, as V-JEPA 2 normalizes its targets) and the normalized proprioceptive state s float[..., S],
which V-JEPA 2-AC also predicts next to the visual tokens. The predictor is a residual MLP over
[latent, action embedding] applied one control step at a time (deterministic latent dynamics as
in PlaNet's deterministic path; Hafner et al. 2019).
"""

from __future__ import annotations

import torch
from torch import nn

from hivla.models.vision import VisionConfig, build_vision_encoder
from hivla.world_model.config import WorldModelConfig


def mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


class ObservationEncoder(nn.Module):
    """images float[B, C, 3, s, s] in [0, 1] (C cameras) + normalized state float[B, S] -> v float[B, D].

    Each camera goes through the ``hivla.models`` CNN (shared weights); the feature maps are
    flattened (keeping where things are), projected, and mixed with the projected state.
    """

    def __init__(self, cfg: WorldModelConfig) -> None:
        super().__init__()
        self.cnn = build_vision_encoder(VisionConfig(kind="cnn", widths=cfg.widths))
        feat = cfg.grid**2 * cfg.widths[-1] * len(cfg.cameras)
        self.image_proj = nn.Sequential(nn.Linear(feat, cfg.hidden_dim), nn.GELU())
        self.state_proj = nn.Sequential(nn.Linear(cfg.state_dim, cfg.hidden_dim), nn.GELU())
        self.out = mlp(2 * cfg.hidden_dim, cfg.hidden_dim, cfg.latent_dim)
        self.norm = nn.LayerNorm(cfg.latent_dim, elementwise_affine=False)

    def forward(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        b = images.shape[0]
        tokens = self.cnn(images.flatten(0, 1))  # (B * C, g * g, W)
        feats = self.image_proj(tokens.reshape(b, -1))  # (B, hidden)
        h = torch.cat([feats, self.state_proj(state)], dim=-1)  # (B, 2 * hidden)
        return self.norm(self.out(h))  # (B, D)


class Predictor(nn.Module):
    """One control step: (z float[N, D + S], normalized action float[N, A]) -> z' float[N, D + S].

    ``h = z + sum_l f_l([LN(h_l), e(a)])``; then ``v' = LN(h[:D])`` and ``s' = h[D:]``: residual
    blocks conditioned on an action embedding at every block (V-JEPA 2-AC conditions its
    predictor on actions per step).
    """

    def __init__(self, cfg: WorldModelConfig) -> None:
        super().__init__()
        d, h = cfg.latent_dim + cfg.state_dim, cfg.hidden_dim
        self.visual = cfg.latent_dim
        self.action_emb = mlp(cfg.action_dim, h, h)
        self.blocks = nn.ModuleList(mlp(d + h, h, d) for _ in range(cfg.predictor_depth))
        self.block_norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(cfg.predictor_depth))
        self.norm = nn.LayerNorm(cfg.latent_dim, elementwise_affine=False)

    def forward(self, z: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        e = self.action_emb(action)  # (N, hidden)
        h = z
        for norm, block in zip(self.block_norms, self.blocks, strict=True):
            h = h + block(torch.cat([norm(h), e], dim=-1))  # (N, D + S)
        return torch.cat([self.norm(h[:, : self.visual]), h[:, self.visual :]], dim=-1)


class FrameDecoder(nn.Module):
    """z float[N, D + S] -> images float[N, C, 3, s, s] in [0, 1] (three stride-2 transposed convs)."""

    def __init__(self, cfg: WorldModelConfig) -> None:
        super().__init__()
        self.cameras, self.size = len(cfg.cameras), cfg.image_size
        self.start = cfg.image_size // 8
        widths = list(reversed(cfg.widths))[:3]
        widths += [widths[-1]] * (3 - len(widths))
        self.c0 = widths[0]
        self.fc = nn.Linear(cfg.latent_dim + cfg.state_dim, self.c0 * self.start**2)
        layers: list[nn.Module] = []
        c_in = self.c0
        for c_out in widths:
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1),
                nn.GroupNorm(min(8, c_out), c_out),
                nn.GELU(),
            ]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, 3 * self.cameras, 3, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        x = self.fc(z).view(n, self.c0, self.start, self.start)  # (N, c0, s/8, s/8)
        x = torch.sigmoid(self.net(x))  # (N, 3 * C, s, s)
        return x.view(n, self.cameras, 3, self.size, self.size)  # (N, C, 3, s, s)


class Heads(nn.Module):
    """Privileged predictions from latents float[N, D + S].

    ``events(z0, z1)`` -> logits float[N, E] of the transition z0 -> z1; ``outcome(z)`` -> logit
    float[N] that the current subtask completes within the outcome horizon; ``progress(z)`` ->
    float[N] in [0, 1].
    """

    def __init__(self, cfg: WorldModelConfig) -> None:
        super().__init__()
        d, h = cfg.latent_dim + cfg.state_dim, cfg.hidden_dim
        self.event_net = mlp(3 * d, h, len(cfg.events))
        self.outcome_net = mlp(d, h, 1)
        self.progress_net = mlp(d, h, 1)

    def events(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        return self.event_net(torch.cat([z0, z1, z1 - z0], dim=-1))  # (N, E)

    def outcome(self, z: torch.Tensor) -> torch.Tensor:
        return self.outcome_net(z).squeeze(-1)  # (N,)

    def progress(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.progress_net(z)).squeeze(-1)  # (N,)
