"""JEPA world model: predict future embeddings of an EMA target encoder; no pixel loss.

As V-JEPA 2-AC (Assran et al. 2025): targets are layer-normalized embeddings of the future frames
from a target encoder that receives no gradients and follows the context encoder by an
exponential moving average (BYOL / I-JEPA style); the loss is L1, teacher-forced per step plus a
multi-step autoregressive rollout. The heads and the state probe keep the embedding tied to
what the robot must know.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F

from hivla.data.stats import NormStats
from hivla.world_model.config import WorldModelConfig
from hivla.world_model.model import WorldModel, register_world_model


@register_world_model("jepa")
class JEPAWorldModel(WorldModel):
    """Context encoder (trained) + EMA target encoder (``target_encoder``, never trained by
    gradients) + action-conditioned predictor."""

    def __init__(self, config: WorldModelConfig, stats: NormStats, event_pos_weight: Any = None) -> None:
        super().__init__(config, stats, event_pos_weight)
        self.target_encoder = copy.deepcopy(self.encoder)
        self.target_encoder.requires_grad_(False)

    def train(self, mode: bool = True) -> JEPAWorldModel:
        super().train(mode)
        self.target_encoder.eval()
        return self

    @torch.no_grad()
    def targets(self, images: torch.Tensor, state: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        b, k1 = images.shape[:2]
        flat = self._latent(self.target_encoder, images.flatten(0, 1), state.flatten(0, 1))  # (B*(K+1), D+S)
        return flat.view(b, k1, -1)  # (B, K+1, D+S)

    def latent_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(pred, target)

    @torch.no_grad()
    def after_step(self) -> None:
        """target <- m * target + (1 - m) * context, parameter by parameter."""
        m = self.config.ema_momentum
        for tgt, src in zip(self.target_encoder.parameters(), self.encoder.parameters(), strict=True):
            tgt.mul_(m).add_(src.detach(), alpha=1.0 - m)
        for tgt, src in zip(self.target_encoder.buffers(), self.encoder.buffers(), strict=True):
            tgt.copy_(src)

    @torch.no_grad()
    def encode_target(self, obs: Any) -> torch.Tensor:
        """An observation embedded by the target encoder: the space the predictor predicts into."""
        return self.encode_target_frames(*self.frames_from_obs(obs))

    def encode_target_frames(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        if images.dtype == torch.uint8:
            images = images.float().div(255.0)
        with torch.no_grad():
            return self._latent(self.target_encoder, images, state)
