"""The latent action model: inverse dynamics from frames (t, t+k) to a few discrete codes, and a
forward model that must redraw frame t+k from frame t and those codes alone.

Frame t+k is predicted from frame t through a bottleneck of ``tokens`` codes, each picked from one
shared codebook (VQ-VAE, van den Oord et al. 2017, straight-through gradients); the codes then have
to say what changed between the frames, which on robot and hand videos is mostly the motion of the
hand: a latent action (Genie, Bruce et al. 2024; LAPA, Ye et al. 2024). With ``align_weight`` > 0 a
small head also predicts the k universal actions between the frames from the quantized latent on
the samples that have actions, pulling the latents towards robot actions (the alignment objective).
While training, a share of the pairs is shown backwards (``reverse_prob``), so that frame t alone
cannot tell what comes next.

Batch keys: ``frames`` float[B, 2, 3, s, s] in [0, 1] (frame t, frame t+k); optionally
``action.universal`` float[B, k, 7] with ``has_action`` bool[B].
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hivla.latent_actions.config import LatentActionConfig
from hivla.types import UNIVERSAL_ACTION_DIM

# Universal actions divided by these are within [-1, 1]: metres, radians per step and the gripper.
ACTION_SCALE = (0.03, 0.03, 0.03, 0.25, 0.25, 0.25, 1.0)


def conv_stack(c_in: int, widths: tuple[int, ...]) -> nn.Sequential:
    """Stride-2 3x3 convolutions with GroupNorm and GELU: float[N, c_in, s, s] -> [N, widths[-1], s/2^L, s/2^L]."""
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Conv2d(c_in, w, 3, 2, 1), nn.GroupNorm(min(8, w), w), nn.GELU()]
        c_in = w
    return nn.Sequential(*layers)


class VectorQuantizer(nn.Module):
    """Nearest-code quantization with straight-through gradients and dead-code restarts.

    ``forward(z float[N, D])`` -> (quantized float[N, D] whose gradient flows to ``z`` unchanged,
    codes long[N], loss = codebook + beta * commitment). With ``normalize``, inputs and codes are
    compared on the unit sphere (l2-normalized, as ViT-VQGAN does, Yu et al. 2022), so neither can
    win by scale. While training, codes unpicked for about ``dead_steps`` steps (an exponential
    average of picks) are moved onto random inputs of the batch, so the codebook does not collapse
    onto a few codes.
    """

    def __init__(self, size: int, dim: int, beta: float, dead_steps: int, normalize: bool = False) -> None:
        super().__init__()
        self.size, self.beta, self.dead_steps, self.normalize = size, beta, dead_steps, normalize
        self.codebook = nn.Parameter(torch.randn(size, dim) * 0.5)
        self.register_buffer("usage", torch.ones(size))  # running picks per code (EMA)

    def _unit(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1) if self.normalize else x

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """codes long[...] -> code vectors float[..., D]."""
        return self._unit(self.codebook)[codes]

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """z float[N, D] -> codes long[N]."""
        return torch.cdist(self._unit(z.float()), self._unit(self.codebook.float())).argmin(-1)  # (N,)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self._unit(z)
        codes = self.nearest(z)  # (N,)
        q = self._unit(self.codebook)[codes]  # (N, D)
        loss = F.mse_loss(q, z.detach()) + self.beta * F.mse_loss(z, q.detach())
        if self.training and self.dead_steps > 0:
            self._restart_dead(z.detach(), codes)
        return z + (q - z).detach(), codes, loss

    @torch.no_grad()
    def _restart_dead(self, z: torch.Tensor, codes: torch.Tensor) -> None:
        decay = 1.0 - 1.0 / self.dead_steps
        picks = torch.bincount(codes, minlength=self.size).float()  # (V,)
        self.usage.mul_(decay).add_(picks * (1.0 - decay) * self.size / max(len(codes), 1))
        dead = torch.nonzero(self.usage < 0.03).flatten()
        if len(dead):
            rows = torch.randint(len(z), (len(dead),), device=z.device)
            self.codebook.data[dead] = z[rows] + 0.01 * torch.randn_like(z[rows])
            self.usage[dead] = 1.0


class LatentActionModel(nn.Module):
    """Inverse dynamics -> VQ latent -> forward model (see the module docstring).

    ``forward(batch)`` -> (loss, metrics); ``encode(frames)`` -> codes long[B, K];
    ``embed(frames)`` -> the quantized latent float[B, K * Dc]; ``predict(frame_t, codes)`` -> frame
    t+k float[B, 3, s, s]; ``align(latent)`` -> normalized universal actions float[B, k, 7].
    """

    def __init__(self, cfg: LatentActionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        k, dc, h, g, w = cfg.tokens, cfg.code_dim, cfg.hidden_dim, cfg.grid, cfg.widths[-1]
        self.idm = conv_stack(9, cfg.widths)  # frame t, frame t+k and their difference
        self.idm_out = nn.Sequential(nn.Flatten(), nn.Linear(w * g * g, h), nn.GELU(), nn.Linear(h, k * dc))
        self.vq = VectorQuantizer(cfg.codebook_size, dc, cfg.commitment, cfg.dead_code_steps, normalize=True)
        self.frame_enc = conv_stack(3, cfg.widths)
        self.film = nn.Linear(k * dc, 2 * w)  # the latent scales and shifts frame t's features
        self.latent_map = nn.Linear(k * dc, w * g * g)  # and adds where things move
        layers: list[nn.Module] = []
        widths = list(reversed(cfg.widths))
        for c_in, c_out in zip(widths, [*widths[1:], widths[-1]], strict=True):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1),
                nn.GroupNorm(min(8, c_out), c_out),
                nn.GELU(),
            ]
        layers.append(nn.Conv2d(widths[-1] + 3, 3, 3, 1, 1))
        self.dec = nn.Sequential(*layers[:-1])
        self.dec_out = layers[-1]
        nn.init.zeros_(self.dec_out.weight)  # start from "nothing changes" (the copy baseline)
        nn.init.zeros_(self.dec_out.bias)
        self.align_head = nn.Sequential(
            nn.Linear(k * dc, h), nn.GELU(), nn.Linear(h, cfg.frame_gap * UNIVERSAL_ACTION_DIM)
        )
        self.register_buffer("action_scale", torch.tensor(ACTION_SCALE))

    # -- parts ------------------------------------------------------------------------------------
    def _continuous(self, frames: torch.Tensor) -> torch.Tensor:
        """frames float[B, 2, 3, s, s] -> the unquantized latent float[B * K, Dc]."""
        a, b = frames[:, 0], frames[:, 1]  # (B, 3, s, s) each
        x = torch.cat([a - 0.5, b - 0.5, (b - a) * 4.0], dim=1)  # (B, 9, s, s)
        z = self.idm_out(self.idm(x))  # (B, K * Dc)
        return z.reshape(-1, self.cfg.code_dim)  # (B * K, Dc)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """frames float[B, 2, 3, s, s] -> codes long[B, K]."""
        return self.vq.nearest(self._continuous(frames)).reshape(frames.shape[0], self.cfg.tokens)

    def embed(self, frames: torch.Tensor) -> torch.Tensor:
        """frames float[B, 2, 3, s, s] -> quantized latent float[B, K * Dc] (the codes' vectors)."""
        return self.vq.lookup(self.encode(frames)).flatten(1)

    def predict_from_latent(self, frame: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """frame t float[B, 3, s, s] + latent float[B, K * Dc] -> frame t+k float[B, 3, s, s] in [0, 1]."""
        b, w, g = frame.shape[0], self.cfg.widths[-1], self.cfg.grid
        h = self.frame_enc(frame - 0.5)  # (B, w, g, g)
        scale, shift = self.film(latent).chunk(2, dim=-1)  # (B, w) each
        h = h * (1.0 + scale[:, :, None, None]) + shift[:, :, None, None]
        h = h + self.latent_map(latent).view(b, w, g, g)  # (B, w, g, g)
        up = self.dec(h)  # (B, w0, s, s)
        delta = self.dec_out(torch.cat([up, frame - 0.5], dim=1))  # (B, 3, s, s)
        return (frame + delta).clamp(0.0, 1.0)

    def predict(self, frame: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """frame t float[B, 3, s, s] + codes long[B, K] -> frame t+k float[B, 3, s, s]."""
        return self.predict_from_latent(frame, self.vq.lookup(codes).flatten(1))

    def align(self, latent: torch.Tensor) -> torch.Tensor:
        """latent float[B, K * Dc] -> normalized universal actions float[B, k, 7]."""
        return self.align_head(latent).view(latent.shape[0], self.cfg.frame_gap, UNIVERSAL_ACTION_DIM)

    # -- loss -------------------------------------------------------------------------------------
    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        return self.compute_loss(batch)

    def compute_loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.cfg
        frames = batch["frames"].to(self.action_scale.device).float()  # (B, 2, 3, s, s)
        b = frames.shape[0]
        reversed_ = torch.zeros(b, dtype=torch.bool, device=frames.device)
        if self.training and cfg.reverse_prob > 0:
            reversed_ = torch.rand(b, device=frames.device) < cfg.reverse_prob  # (B,)
            frames = torch.where(reversed_[:, None, None, None, None], frames.flip(1), frames)
        q, codes, vq_loss = self.vq(self._continuous(frames))  # (B * K, Dc), (B * K,)
        latent = q.reshape(b, -1)  # (B, K * Dc)
        pred = self.predict_from_latent(frames[:, 0], latent)  # (B, 3, s, s)
        recon = F.mse_loss(pred, frames[:, 1])
        copy = F.mse_loss(frames[:, 0], frames[:, 1])
        # relative to copying frame t: about 1 for "nothing changes" whatever the video, so the
        # pixels' gradient is not drowned by the codebook's terms on near-static frames
        loss = recon / (copy.detach() + 1e-4) + vq_loss
        probs = torch.bincount(codes, minlength=cfg.codebook_size).float() / codes.numel()  # (V,)
        entropy = -(probs * probs.clamp(min=1e-12).log()).sum()
        metrics = {
            "recon_mse": float(recon.detach()),
            "copy_mse": float(copy),  # what predicting "nothing changes" scores
            "vq_loss": float(vq_loss.detach()),
            "perplexity": float(entropy.exp()),
            "codes_used": float((probs > 0).float().mean()),
        }
        if cfg.align_weight > 0 and "action.universal" in batch:
            has = batch["has_action"].to(frames.device).bool() & ~reversed_  # (B,)
            if bool(has.any()):
                target = batch["action.universal"].to(frames.device).float() / self.action_scale  # (B, k, 7)
                err = (self.align(latent) - target).pow(2).mean(dim=(1, 2))  # (B,)
                align = err[has].mean()
                loss = loss + cfg.align_weight * align
                metrics["align_mse"] = float(align.detach())
        return loss, {"loss": float(loss.detach()), **metrics}
