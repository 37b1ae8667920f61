"""Latent generative world model: predict the next latent and decode it to pixels.

Deterministic latent dynamics trained with reconstruction, in the line of PlaNet and DreamerV3
(Hafner et al. 2019, 2023) without their stochastic latents: the encoder is trained through a
frame decoder (every encoded and every imagined latent is decoded and compared with the real
frame), and the predictor regresses the next encoded latent (stop-gradient target). Decoding
imagined latents lets a person look at imagined futures (``decode``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from hivla.data.stats import NormStats
from hivla.world_model.config import WorldModelConfig
from hivla.world_model.model import WorldModel, register_world_model
from hivla.world_model.nets import FrameDecoder


@register_world_model("latent")
class LatentWorldModel(WorldModel):
    """Encoder + predictor + frame decoder; targets are the (detached) encoded next latents."""

    def __init__(self, config: WorldModelConfig, stats: NormStats, event_pos_weight: Any = None) -> None:
        super().__init__(config, stats, event_pos_weight)
        self.decoder = FrameDecoder(config)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents float[..., D + S] -> frames float[..., C, 3, s, s] in [0, 1] (cameras in config order)."""
        lead = z.shape[:-1]
        frames = self.decoder(z.reshape(-1, z.shape[-1]))  # (N, C, 3, s, s)
        return frames.reshape(*lead, *frames.shape[1:])

    def targets(self, images: torch.Tensor, state: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return z.detach()

    def latent_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred, target)

    def extra_loss(self, batch: dict[str, Any], z: torch.Tensor, zr: torch.Tensor) -> dict[str, torch.Tensor]:
        images, _ = self.batch_frames(batch)  # (B, K+1, C, 3, s, s)
        recon = F.mse_loss(self.decode(z), images)
        imagined = F.mse_loss(self.decode(zr[:, 1:]), images[:, 1:])
        return {"recon": self.config.loss.recon * (recon + imagined)}
