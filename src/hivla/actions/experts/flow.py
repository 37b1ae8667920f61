"""Conditional flow matching over action chunks, as in pi0 (Black et al. 2024)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from hivla.actions.experts.base import ActionExpert, ExpertConfig, _positive_int, masked_mean, register_expert
from hivla.actions.experts.nets import ResidualMLP, sinusoidal_embedding


@dataclass(frozen=True)
class FlowMatchingConfig(ExpertConfig):
    """pi0's flow matching: t = s * Beta(alpha, beta) + (1 - s), ``num_steps`` Euler steps."""

    num_steps: int = 10  # Euler integration steps at sampling time (pi0: 10)
    time_alpha: float = 1.5  # Beta(alpha, beta) over t; pi0 uses (1.5, 1), i.e. more noisy times
    time_beta: float = 1.0
    time_shift: float = 0.999  # s: t in [1 - s, 1], so t never reaches exactly 0
    time_dim: int = 64  # width of the sinusoidal time embedding (even)

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("num_steps", self.num_steps)
        _positive_int("time_dim", self.time_dim)
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even, got {self.time_dim}")
        for name in ("time_alpha", "time_beta"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if not 0 < self.time_shift <= 1:
            raise ValueError(f"time_shift must be in (0, 1], got {self.time_shift!r}")


@register_expert("flow")
class FlowMatchingExpert(ActionExpert):
    """Flow-matching action expert (Black et al. 2024, pi0; Lipman et al. 2023).

    Convention of pi0: x_t = t * noise + (1 - t) * actions, with t = 1 pure noise and t = 0 the
    data; the network v(x_t, t, cond) regresses the velocity u = noise - actions. Sampling starts
    from Gaussian noise at t = 1 and takes ``num_steps`` Euler steps of size -1/num_steps. The
    velocity net is a residual MLP over the flattened noisy chunk with the time embedding and
    cond added in every block.
    """

    config_cls = FlowMatchingConfig
    config: FlowMatchingConfig

    def __init__(self, config: FlowMatchingConfig) -> None:
        super().__init__(config)
        c = config
        self.net = ResidualMLP(
            c.chunk_dim, c.chunk_dim, c.hidden_dim, c.depth, context_dim=c.time_dim + c.cond_dim
        )

    def velocity(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """v(x_t float[B, H, A], t float[B], cond float[B, D]) -> float[B, H, A]."""
        batch = x_t.shape[0]
        context = torch.cat([sinusoidal_embedding(t, self.config.time_dim), cond], dim=-1)  # (B, T + D)
        v = self.net(x_t.reshape(batch, -1), context)  # (B, H*A)
        return v.reshape(x_t.shape)  # (B, H, A)

    def sample_time(self, batch: int, device: torch.device) -> torch.Tensor:
        """pi0's time distribution: s * Beta(alpha, beta) + (1 - s) -> float[B]."""
        c = self.config
        beta = torch.distributions.Beta(torch.tensor(c.time_alpha), torch.tensor(c.time_beta))
        return (beta.sample((batch,)) * c.time_shift + (1.0 - c.time_shift)).to(device)

    def compute_loss(
        self, cond: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Masked MSE between predicted and target velocity (padded steps excluded)."""
        cond, actions, mask = self.check_batch(cond, actions, mask)
        noise = torch.randn_like(actions)  # (B, H, A)
        t = self.sample_time(actions.shape[0], actions.device)  # (B,)
        t3 = t[:, None, None]  # (B, 1, 1)
        x_t = t3 * noise + (1.0 - t3) * actions  # (B, H, A)
        err = (self.velocity(x_t, t, cond) - (noise - actions)) ** 2  # (B, H, A)
        return masked_mean(err, mask)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Euler-integrate from noise (t = 1) to actions (t = 0) in ``steps`` (default num_steps)."""
        cond = self.check_cond(cond)
        n = self.resolve_steps(steps, self.config.num_steps)
        c = self.config
        shape = (cond.shape[0], c.horizon, c.action_dim)
        x = (
            torch.randn(shape, generator=generator, device=cond.device) if noise is None else noise
        )  # (B, H, A)
        dt = -1.0 / n
        for i in range(n):
            t = torch.full((shape[0],), 1.0 + i * dt, device=cond.device)  # (B,)
            x = x + dt * self.velocity(x, t, cond)
        return x
