"""Denoising diffusion over action chunks: DDPM training, DDIM sampling (Ho et al. 2020; Song et al. 2021)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from hivla.actions.experts.base import ActionExpert, ExpertConfig, _positive_int, masked_mean, register_expert
from hivla.actions.experts.nets import ResidualMLP, sinusoidal_embedding

SCHEDULES = ("cosine", "linear")


@dataclass(frozen=True)
class DiffusionConfig(ExpertConfig):
    """DDPM with ``train_steps`` noise levels; DDIM sampling in ``sample_steps`` steps."""

    train_steps: int = 100  # T, number of noise levels in training
    schedule: str = "cosine"  # "cosine" (Nichol & Dhariwal 2021) or "linear" (Ho et al. 2020)
    beta_start: float = 1e-4  # linear schedule only
    beta_end: float = 0.02  # linear schedule only
    sample_steps: int = 10  # DDIM steps at sampling time
    eta: float = 0.0  # DDIM stochasticity: 0 deterministic, 1 DDPM-like
    clip_sample: float | None = 1.0  # clip the predicted clean chunk to [-c, c]; None: no clipping
    time_dim: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("train_steps", "sample_steps", "time_dim"):
            _positive_int(name, getattr(self, name))
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even, got {self.time_dim}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ValueError(f"need 0 < beta_start < beta_end < 1, got {self.beta_start}, {self.beta_end}")
        if not (math.isfinite(self.eta) and self.eta >= 0):
            raise ValueError(f"eta must be >= 0, got {self.eta!r}")
        if self.clip_sample is not None and not (math.isfinite(self.clip_sample) and self.clip_sample > 0):
            raise ValueError(f"clip_sample must be None or a number > 0, got {self.clip_sample!r}")


def make_alphas_cumprod(cfg: DiffusionConfig) -> torch.Tensor:
    """Cumulative products of (1 - beta_t), float64[T], for the configured schedule."""
    steps = cfg.train_steps
    if cfg.schedule == "linear":
        betas = torch.linspace(cfg.beta_start, cfg.beta_end, steps, dtype=torch.float64)
    else:  # cosine: alpha_bar(u) = cos^2((u + s) / (1 + s) * pi / 2), Nichol & Dhariwal 2021
        s = 0.008
        u = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
        alpha_bar = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    return torch.cumprod(1.0 - betas, dim=0)


@register_expert("diffusion")
class DiffusionExpert(ActionExpert):
    """Diffusion action expert (Ho et al. 2020, DDPM; Song et al. 2021, DDIM; Chi et al. 2023).

    Training picks a noise level k uniformly in [0, T), forms x_k = sqrt(ab_k) a + sqrt(1 - ab_k) e
    and regresses the noise e with an epsilon-prediction residual MLP. Sampling runs DDIM over
    ``sample_steps`` evenly spaced levels from T-1 down to 0.
    """

    config_cls = DiffusionConfig
    config: DiffusionConfig

    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__(config)
        c = config
        self.net = ResidualMLP(
            c.chunk_dim, c.chunk_dim, c.hidden_dim, c.depth, context_dim=c.time_dim + c.cond_dim
        )
        # Derived from the config, so not part of the state dict.
        self.register_buffer("alphas_cumprod", make_alphas_cumprod(c).float(), persistent=False)

    def predict_noise(self, x_k: torch.Tensor, k: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """eps(x_k float[B, H, A], k int[B], cond float[B, D]) -> float[B, H, A]."""
        batch = x_k.shape[0]
        t = k.float() / self.config.train_steps  # (B,) in [0, 1)
        context = torch.cat([sinusoidal_embedding(t, self.config.time_dim), cond], dim=-1)  # (B, T + D)
        return self.net(x_k.reshape(batch, -1), context).reshape(x_k.shape)  # (B, H, A)

    def compute_loss(
        self, cond: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Masked MSE between predicted and true noise (padded steps excluded)."""
        cond, actions, mask = self.check_batch(cond, actions, mask)
        batch = actions.shape[0]
        k = torch.randint(0, self.config.train_steps, (batch,), device=actions.device)  # (B,)
        ab = self.alphas_cumprod[k][:, None, None]  # (B, 1, 1)
        noise = torch.randn_like(actions)  # (B, H, A)
        x_k = ab.sqrt() * actions + (1 - ab).sqrt() * noise  # (B, H, A)
        return masked_mean((self.predict_noise(x_k, k, cond) - noise) ** 2, mask)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """DDIM from pure noise in ``steps`` (default sample_steps, at most train_steps) levels."""
        cond = self.check_cond(cond)
        c = self.config
        n = min(self.resolve_steps(steps, c.sample_steps), c.train_steps)
        levels = torch.linspace(c.train_steps - 1, 0, n).round().long().unique_consecutive().tolist()
        shape = (cond.shape[0], c.horizon, c.action_dim)
        x = (
            torch.randn(shape, generator=generator, device=cond.device) if noise is None else noise
        )  # (B, H, A)
        for i, level in enumerate(levels):
            ab = self.alphas_cumprod[level]
            ab_prev = self.alphas_cumprod[levels[i + 1]] if i + 1 < len(levels) else torch.tensor(1.0)
            k = torch.full((shape[0],), level, device=cond.device, dtype=torch.long)  # (B,)
            eps = self.predict_noise(x, k, cond)  # (B, H, A)
            x0 = (x - (1 - ab).sqrt() * eps) / ab.sqrt()  # (B, H, A)
            if c.clip_sample is not None:
                x0 = x0.clamp(-c.clip_sample, c.clip_sample)
                eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            sigma = c.eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).clamp(min=0).sqrt()
            x = ab_prev.sqrt() * x0 + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps
            if c.eta > 0 and i + 1 < len(levels):
                x = x + sigma * torch.randn(shape, generator=generator, device=cond.device)
        return x
