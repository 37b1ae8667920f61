"""Probes from latent actions to robot actions: how much of the universal action a latent carries.

A probe is fitted on one set of (latent, action) pairs and scored on another: R² per action
dimension (1 - residual variance / variance of the scored set; None for a dimension that does not
vary there) and the accuracy of the gripper's sign (closing vs opening). ``linear``: ridge regression
on standardized latents (closed form); ``mlp``: one hidden layer trained full-batch with Adam.
Latents and actions of frame pairs come from :func:`pair_features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from hivla.latent_actions.model import ACTION_SCALE
from hivla.types import UNIVERSAL_ACTION_NAMES

PROBES = ("linear", "mlp")
MIN_STD = 1e-6  # a dimension varying less than this in the scored set has no R²


@dataclass(frozen=True)
class ProbeConfig:
    """``ridge``: L2 weight of the linear probe; ``hidden``, ``steps``, ``lr``, ``weight_decay``: the MLP's."""

    ridge: float = 1e-4
    hidden: int = 64
    steps: int = 500
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.ridge < 0 or self.hidden < 1 or self.steps < 1 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(
                f"probe needs ridge >= 0, hidden >= 1, steps >= 1, lr > 0, weight_decay >= 0: {self}"
            )


class Probe:
    """``fit(x float[N, D], y float[N, A])`` then ``predict(x) -> float[M, A]``."""

    def __init__(self, kind: str, cfg: ProbeConfig = ProbeConfig()) -> None:
        if kind not in PROBES:
            raise ValueError(f"probe kind must be one of {PROBES}, got {kind!r}")
        self.kind, self.cfg = kind, cfg

    def fit(self, x: np.ndarray, y: np.ndarray) -> Probe:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        self.x_mean, self.x_std = x.mean(0), np.maximum(x.std(0), 1e-6)
        self.y_mean, self.y_std = y.mean(0), np.maximum(y.std(0), 1e-6)
        xs, ys = (x - self.x_mean) / self.x_std, (y - self.y_mean) / self.y_std
        if self.kind == "linear":
            a = np.c_[xs, np.ones(len(xs))]  # (N, D + 1)
            reg = self.cfg.ridge * len(xs) * np.eye(a.shape[1])
            reg[-1, -1] = 0.0  # the bias is not shrunk
            self.weights = np.linalg.solve(a.T @ a + reg, a.T @ ys)  # (D + 1, A)
        else:
            self._fit_mlp(xs, ys)
        return self

    def _fit_mlp(self, xs: np.ndarray, ys: np.ndarray) -> None:
        cfg = self.cfg
        gen = torch.Generator().manual_seed(cfg.seed)
        net = nn.Sequential(nn.Linear(xs.shape[1], cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, ys.shape[1]))
        with torch.no_grad():
            for p in net.parameters():  # seeded init, independent of the global RNG
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 / max(p.shape[-1], 1) ** 0.5))
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        xt, yt = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.float32)
        for _ in range(cfg.steps):
            loss = (net(xt) - yt).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.net = net.eval()

    def predict(self, x: np.ndarray) -> np.ndarray:
        xs = (np.asarray(x, np.float64) - self.x_mean) / self.x_std
        if self.kind == "linear":
            ys = np.c_[xs, np.ones(len(xs))] @ self.weights
        else:
            with torch.no_grad():
                ys = self.net(torch.tensor(xs, dtype=torch.float32)).double().numpy()
        return ys * self.y_std + self.y_mean


def r2_scores(y: np.ndarray, pred: np.ndarray) -> list[float | None]:
    """R² per column of ``y`` float[N, A]; None where ``y`` does not vary."""
    out: list[float | None] = []
    for j in range(y.shape[1]):
        var = float(np.var(y[:, j]))
        if var < MIN_STD**2:
            out.append(None)
        else:
            out.append(float(1.0 - np.mean((y[:, j] - pred[:, j]) ** 2) / var))
    return out


def motion_r2(y: np.ndarray, pred: np.ndarray) -> float | None:
    """One R² for the motion (dx..drz, each divided by its action range ``ACTION_SCALE``): 1 - the
    summed squared error / the summed variance. A dimension that hardly varies on the scored set
    weighs little, where its own R² could be any large negative number; None when nothing varies."""
    scale = np.asarray(ACTION_SCALE[:6])
    err = (((y[:, :6] - pred[:, :6]) / scale) ** 2).mean(0).sum()
    var = (np.var(y[:, :6], axis=0) / scale**2).sum()
    return None if var < MIN_STD**2 else float(1.0 - err / var)


def score(probe: Probe, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """R² per universal dimension (named), the motion's R² (:func:`motion_r2`), gripper sign accuracy."""
    pred = probe.predict(x)
    r2 = r2_scores(y, pred)
    grip = UNIVERSAL_ACTION_NAMES.index("gripper")
    return {
        "r2": dict(zip(UNIVERSAL_ACTION_NAMES, r2, strict=True)),
        "r2_motion": motion_r2(y, pred),
        "gripper_acc": float(np.mean(np.sign(pred[:, grip]) == np.sign(y[:, grip]))),
        "samples": len(y),
    }


@torch.no_grad()
def pair_features(
    model: Any, dataset: Any, indices: Any = None, batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """(quantized latents float[N, K * Dc], actions float[N, 7]) of frame pairs of ``dataset``
    (:class:`~hivla.latent_actions.data.FramePairDataset`, with actions): the action of a pair is
    the mean of the k universal actions between its frames."""
    idx = list(range(len(dataset))) if indices is None else [int(i) for i in indices]
    latents, actions = [], []
    for start in range(0, len(idx), batch):
        items = [dataset[i] for i in idx[start : start + batch]]
        latents.append(model.embed(torch.stack([it["frames"] for it in items])).numpy())
        actions.append(torch.stack([it["action.universal"].mean(0) for it in items]).numpy())  # (b, 7)
    dim = model.cfg.tokens * model.cfg.code_dim
    if not latents:
        return np.zeros((0, dim), np.float32), np.zeros((0, 7), np.float32)
    return np.concatenate(latents), np.concatenate(actions)
