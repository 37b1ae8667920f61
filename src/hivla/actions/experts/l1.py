"""L1 chunk regression with parallel decoding, as in OpenVLA-OFT (Kim et al. 2025)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hivla.actions.experts.base import ActionExpert, ExpertConfig, masked_mean, register_expert
from hivla.actions.experts.nets import ResidualMLP


@dataclass(frozen=True)
class L1RegressionConfig(ExpertConfig):
    """A residual MLP from cond to the whole chunk; no sampling steps."""


@register_expert("l1")
class L1RegressionExpert(ActionExpert):
    """Predict the whole chunk at once from cond and train with L1 (Kim et al. 2025, OpenVLA-OFT).

    Deterministic: ``sample`` ignores ``steps`` and ``generator``. It models one point per cond,
    so on a multi-modal target it does not pick a mode: L1 is minimized by the per-value median,
    which for two equally likely modes is anywhere between them, and training from the zero
    output stays between them (tests/actions/experts shows samples near 0 for +-1 modes).
    """

    config_cls = L1RegressionConfig
    config: L1RegressionConfig

    def __init__(self, config: L1RegressionConfig) -> None:
        super().__init__(config)
        c = config
        self.net = ResidualMLP(c.cond_dim, c.chunk_dim, c.hidden_dim, c.depth)

    def predict(self, cond: torch.Tensor) -> torch.Tensor:
        """cond float[B, D] -> chunk float[B, H, A]."""
        c = self.config
        return self.net(cond).reshape(cond.shape[0], c.horizon, c.action_dim)  # (B, H, A)

    def compute_loss(
        self, cond: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Masked mean absolute error of the predicted chunk (padded steps excluded)."""
        cond, actions, mask = self.check_batch(cond, actions, mask)
        return masked_mean((self.predict(cond) - actions).abs(), mask)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The regressed chunk float32[B, H, A] (one parallel forward pass)."""
        cond = self.check_cond(cond)
        self.resolve_steps(steps, 1)
        return self.predict(cond)
