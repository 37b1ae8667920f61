"""AdamW with decoupled weight decay on matrices only, LR schedules, and EMA weights."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


def make_optimizer(
    model: nn.Module, lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.95)
) -> torch.optim.AdamW:
    """AdamW (Loshchilov & Hutter 2019) over trainable parameters; no decay on biases, norms, embeddings of dim < 2."""
    decay, no_decay = [], []
    for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), eps=1e-8)


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """LR multiplier: linear warmup over ``warmup`` steps, then cosine decay to ``min_ratio`` at ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def one_cycle(
    step: int, total: int, pct_start: float = 0.3, div: float = 25.0, final_div: float = 1e4
) -> float:
    """LR multiplier of the one-cycle policy (Smith & Topin 2019) with torch ``OneCycleLR``'s
    defaults: cosine from 1/div up to 1 over ``pct_start`` of the steps, then down to 1/(div * final_div)."""
    peak = pct_start * total - 1.0
    lo, hi, end = 1.0 / div, 1.0, 1.0 / (div * final_div)
    if step <= peak:
        start, stop, pct = lo, hi, step / max(peak, 1e-9)
    else:
        start, stop, pct = hi, end, min(1.0, (step - peak) / max(total - 1.0 - peak, 1e-9))
    return stop + (start - stop) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def lr_multiplier(schedule: str, warmup: int, total: int, min_ratio: float) -> Callable[[int], float]:
    """The LR multiplier per step of a ``TrainConfig.schedule`` name."""
    if schedule == "warmup_cosine":
        return lambda s: warmup_cosine(s, warmup, total, min_ratio)
    if schedule == "one_cycle":
        return lambda s: one_cycle(s, total)
    if schedule == "constant":
        return lambda s: 1.0
    raise ValueError(f"unknown schedule {schedule!r}; available: warmup_cosine, one_cycle, constant")


class EMA:
    """Exponential moving average of the trainable weights (Polyak averaging), with the usual
    warmup ``decay_t = min(decay, (1 + t) / (10 + t))``. Frozen weights and buffers are not
    tracked: :meth:`merged` takes them from the live model."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {k: p.detach().clone().float() for k, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for k, p in model.named_parameters():
            if k in self.shadow:
                self.shadow[k].mul_(d).add_(p.detach().float(), alpha=1.0 - d)

    def merged(self, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``weights`` (a state dict) with the averaged values in place of the trainable ones."""
        return {k: self.shadow[k].to(v.dtype).cpu() if k in self.shadow else v for k, v in weights.items()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for k, v in state.items():
            self.shadow[k].copy_(v)
