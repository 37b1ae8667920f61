"""The world-model interface and what both kinds share.

Seam: ``encode(obs) -> z``; ``predict(z, actions) -> z'``; ``rollout(z, chunk) -> [z]``.
Training: ``compute_loss(batch) -> (loss, metrics)`` over :class:`~hivla.world_model.data.WindowDataset`
batches, then ``after_step()`` (the JEPA target EMA). Both kinds share the encoder, the predictor,
the heads and the two prediction losses of V-JEPA 2-AC (Assran et al. 2025): a teacher-forced
step loss (predict z_{t+k} from the encoded z_{t+k-1}) and a K-step autoregressive rollout loss
(predict from the model's own predictions). They differ in the prediction targets and the
pixel loss (:mod:`hivla.world_model.latent`, :mod:`hivla.world_model.jepa`).

A latent is ``[v, s]`` float[..., D + S] (``latent_size``): the layer-normalized visual embedding
and the normalized proprioceptive state (read back in raw units with ``decode_state``). Actions and
states enter in raw units; the model normalizes them with statistics that are saved with the
checkpoint (``assets/stats.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hivla.data.stats import FeatureStats, NormStats
from hivla.registry import Registry
from hivla.transforms.normalize import standardize, unstandardize
from hivla.world_model.config import WorldModelConfig
from hivla.world_model.data import resize_frames
from hivla.world_model.nets import Heads, ObservationEncoder, Predictor

WORLD_MODELS: Registry[type[WorldModel]] = Registry("world model")
MAX_NORMALIZED = 10.0  # normalized actions/states are clamped to +-10 std (unseen embodiments, outliers)


def register_world_model(kind: str):
    def decorator(cls: type[WorldModel]) -> type[WorldModel]:
        cls.kind = kind
        WORLD_MODELS.add(kind, cls)
        return cls

    return decorator


class Normalizer(nn.Module):
    """(x - mean) / std per dimension, with std floored at 1e-3 and the result clamped."""

    def __init__(self, stats: FeatureStats) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(stats.mean, np.float32)))
        self.register_buffer("std", torch.as_tensor(np.maximum(np.asarray(stats.std, np.float32), 1e-3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return standardize(x, self.mean, self.std).clamp(-MAX_NORMALIZED, MAX_NORMALIZED)

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return unstandardize(x, self.mean, self.std)


class WorldModel(nn.Module):
    """Action-conditioned latent predictor with privileged heads. Subclasses set ``target`` and
    ``extra_loss``.

    Shapes: z float[B, D + S]; actions float[B, A] (one step) or float[B, H, A] (a chunk), raw units.
    """

    kind: ClassVar[str] = ""

    def __init__(self, config: WorldModelConfig, stats: NormStats, event_pos_weight: Any = None) -> None:
        super().__init__()
        if config.state_dim < 1 or config.action_dim < 1:
            raise ValueError(
                "the world model config needs state_dim and action_dim from the data, got "
                f"{config.state_dim} and {config.action_dim}; build models through the trainer or load_world_model"
            )
        self.config = config
        self.stats = stats
        self.action_norm = Normalizer(stats["action"])
        self.state_norm = Normalizer(stats["state"])
        self.encoder = ObservationEncoder(config)
        self.predictor = Predictor(config)
        self.heads = Heads(config)
        weight = (
            torch.ones(len(config.events)) if event_pos_weight is None else torch.as_tensor(event_pos_weight)
        )
        self.register_buffer("event_pos_weight", weight.float().reshape(len(config.events)))

    @property
    def device(self) -> torch.device:
        return self.event_pos_weight.device

    @property
    def latent_size(self) -> int:
        """D + S: the visual embedding and the normalized state."""
        return self.config.latent_dim + self.config.state_dim

    def _latent(self, encoder: torch.nn.Module, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """[encoder(images, s), s] with s the normalized state: float[B, D + S]."""
        s = self.state_norm(state)
        return torch.cat([encoder(images, s), s], dim=-1)

    # ---- observations ------------------------------------------------------------------------
    def frames_from_obs(self, obs: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """An env observation (unbatched uint8[H, W, 3] per camera, float[S] state; or batched with a
        leading B) -> (images float[B, C, 3, s, s] in [0, 1], raw state float[B, S])."""
        cfg = self.config
        missing = [c for c in cfg.cameras if c not in obs.get("images", {})]
        if missing:
            raise ValueError(
                f"the observation lacks cameras {missing}; this world model reads {list(cfg.cameras)}"
            )
        cams = []
        for cam in cfg.cameras:
            img = np.asarray(obs["images"][cam])
            batch = img[None] if img.ndim == 3 else img  # (B, H, W, 3)
            cams.append(resize_frames(batch.astype(np.uint8), cfg.image_size))
        images = torch.from_numpy(np.stack(cams, axis=1)).permute(0, 1, 4, 2, 3)  # (B, C, 3, s, s)
        state = torch.as_tensor(np.asarray(obs["state"], np.float32)).reshape(images.shape[0], -1)  # (B, S)
        return images.float().div(255.0).to(self.device), state.to(self.device)

    def encode_frames(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """images float[B, C, 3, s, s] in [0, 1] (or uint8), raw state float[B, S] -> z float[B, D + S]."""
        if images.dtype == torch.uint8:
            images = images.float().div(255.0)
        return self._latent(self.encoder, images, state)

    def encode(self, obs: Mapping[str, Any]) -> torch.Tensor:
        """An env observation -> z float[B, D + S] (the context encoder)."""
        return self.encode_frames(*self.frames_from_obs(obs))

    def encode_target(self, obs: Mapping[str, Any]) -> torch.Tensor:
        """An observation in the space predictions live in (goals, errors); see subclasses."""
        return self.encode(obs)

    def encode_target_frames(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """:meth:`encode_frames` in the prediction space (the JEPA target encoder overrides it)."""
        return self.encode_frames(images, state)

    # ---- dynamics ------------------------------------------------------------------------------
    def step(self, z: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """One control step: z float[N, D + S], raw action float[N, A] -> z' float[N, D + S]."""
        return self.predictor(z, self.action_norm(action))

    def rollout(self, z: torch.Tensor, chunk: torch.Tensor) -> torch.Tensor:
        """Imagine a chunk: z float[B, D + S], raw actions float[B, H, A] -> latents float[B, H, D + S]
        after each action (z_{t+1} .. z_{t+H}), fed back autoregressively."""
        chunk = torch.as_tensor(chunk, dtype=torch.float32, device=z.device)
        if chunk.ndim != 3 or chunk.shape[0] != z.shape[0] or chunk.shape[2] != self.config.action_dim:
            raise ValueError(
                f"rollout needs a chunk float[B={z.shape[0]}, H, A={self.config.action_dim}], got {tuple(chunk.shape)}"
            )
        out = []
        for k in range(chunk.shape[1]):
            z = self.step(z, chunk[:, k])
            out.append(z)
        return torch.stack(out, dim=1)  # (B, H, D)

    def predict(self, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """z float[B, D + S] after raw actions float[B, A] (one step) or float[B, H, A] (H steps)."""
        actions = torch.as_tensor(actions, dtype=torch.float32, device=z.device)
        if actions.ndim == 2:
            return self.step(z, actions)
        return self.rollout(z, actions)[:, -1]

    # ---- heads ---------------------------------------------------------------------------------
    def event_probs(self, z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        """Probabilities float[..., E] of each event on the transition z0 -> z1 (``config.events``).

        The heads train with positive weights w = (1 - p) / p against rare events, which shifts
        their logits by log w; subtracting it restores calibrated probabilities (prior correction).
        """
        lead = z0.shape[:-1]
        logits = self.heads.events(z0.reshape(-1, z0.shape[-1]), z1.reshape(-1, z1.shape[-1]))  # (N, E)
        return torch.sigmoid(logits - torch.log(self.event_pos_weight)).reshape(*lead, -1)

    def imagine_events(self, z: torch.Tensor, chunk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(latents float[B, H, D + S], event probabilities float[B, H, E]) of executing ``chunk`` from z."""
        zs = self.rollout(z, chunk)  # (B, H, D)
        prev = torch.cat([z[:, None], zs[:, :-1]], dim=1)  # (B, H, D)
        return zs, self.event_probs(prev, zs)

    def outcome_prob(self, z: torch.Tensor) -> torch.Tensor:
        """float[...]: the current subtask completes within ``config.outcome_horizon`` steps."""
        return torch.sigmoid(self.heads.outcome(z.reshape(-1, z.shape[-1]))).reshape(z.shape[:-1])

    def progress(self, z: torch.Tensor) -> torch.Tensor:
        return self.heads.progress(z.reshape(-1, z.shape[-1])).reshape(z.shape[:-1])

    def decode_state(self, z: torch.Tensor) -> torch.Tensor:
        """Raw proprioception float[..., S] read from latents (their state part)."""
        return self.state_norm.inverse(z[..., self.config.latent_dim :])

    # ---- training ------------------------------------------------------------------------------
    def targets(self, images: torch.Tensor, state: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Prediction targets float[B, K + 1, D + S] for frames float[B, K + 1, C, 3, s, s]."""
        raise NotImplementedError

    def latent_distance(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean distance used by the prediction losses (L1 for JEPA as in V-JEPA 2, MSE otherwise)."""
        raise NotImplementedError

    def extra_loss(
        self, batch: dict[str, torch.Tensor], z: torch.Tensor, zr: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Kind-specific weighted loss terms (e.g. pixels)."""
        return {}

    def after_step(self) -> None:
        """Called by the trainer after each optimizer step."""

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        return self.compute_loss(batch)

    def batch_frames(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """(images float[B, K + 1, C, 3, s, s] in [0, 1], raw state float[B, K + 1, S]) of a batch."""
        images = torch.stack(
            [batch[f"images.{c}"] for c in self.config.cameras], dim=2
        )  # (B, K+1, C, 3, s, s)
        images = images.float().div(255.0) if images.dtype == torch.uint8 else images.float()
        return images.to(self.device), batch["state"].float().to(self.device)

    def compute_loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, w = self.config, self.config.loss
        images, state = self.batch_frames(batch)
        b, k1 = state.shape[:2]
        actions = self.action_norm(batch["action"].float().to(self.device))  # (B, K, A)
        z = self._latent(self.encoder, images.flatten(0, 1), state.flatten(0, 1)).view(
            b, k1, -1
        )  # (B, K+1, D+S)
        target = self.targets(images, state, z)  # (B, K+1, D+S)
        z_tf = self.predictor(z[:, :-1].flatten(0, 1), actions.flatten(0, 1)).view(
            b, k1 - 1, -1
        )  # (B, K, D+S)
        rolled = [z[:, 0]]
        for k in range(k1 - 1):
            rolled.append(self.predictor(rolled[-1], actions[:, k]))
        zr = torch.stack(rolled, dim=1)  # (B, K+1, D+S); index 0 is the encoded start
        terms = {
            "teacher": w.teacher * self.latent_distance(z_tf, target[:, 1:]),
            "rollout": w.rollout * self.latent_distance(zr[:, 1:], target[:, 1:]),
        }
        terms.update(self.head_losses(batch, z, zr))
        terms.update(self.extra_loss(batch, z, zr))
        loss = sum(terms.values())
        with torch.no_grad():
            copy_last = self.latent_distance(target[:, :-1], target[:, 1:])
            metrics = {k: float(v) for k, v in terms.items()}
            metrics["loss"] = float(loss)
            metrics["teacher_vs_copy_last"] = float(
                self.latent_distance(z_tf, target[:, 1:]) / copy_last.clamp_min(1e-8)
            )
            metrics["latent_std"] = float(target[..., : cfg.latent_dim].flatten(0, 1).std(0).mean())
        return loss, metrics

    def head_losses(
        self, batch: dict[str, Any], z: torch.Tensor, zr: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Event, outcome and progress losses on encoded (z) and imagined (zr) latents, so that
        the heads read imagined futures as well as real ones."""
        w = self.config.loss
        events = batch["events"].float().to(self.device)  # (B, K, E)
        known = ~torch.isnan(events)
        labels = torch.nan_to_num(events)
        ev_loss = z.new_zeros(())
        for latents in (z, zr):
            logits = self.heads.events(
                latents[:, :-1].flatten(0, 1), latents[:, 1:].flatten(0, 1)
            )  # (B*K, E)
            bce = F.binary_cross_entropy_with_logits(
                logits, labels.flatten(0, 1), pos_weight=self.event_pos_weight, reduction="none"
            )  # (B*K, E)
            mask = known.flatten(0, 1).float()
            ev_loss = ev_loss + (bce * mask).sum() / mask.sum().clamp_min(1.0)
        both = torch.cat([z, zr[:, 1:]], dim=1).flatten(0, 1)  # (B*(2K+1), D+S)
        outcome = batch["outcome"].float().to(self.device)
        outcome = torch.cat([outcome, outcome[:, 1:]], dim=1).flatten()  # (B*(2K+1),)
        progress = batch["progress"].float().to(self.device)
        progress = torch.cat([progress, progress[:, 1:]], dim=1).flatten()
        return {
            "events": w.events * ev_loss / 2,
            "outcome": w.outcome * F.binary_cross_entropy_with_logits(self.heads.outcome(both), outcome),
            "progress": w.progress * F.mse_loss(self.heads.progress(both), progress),
        }
