"""Measure a world model on held-out episodes: prediction errors against a copy-last baseline,
event and outcome prediction from imagined rollouts.

All errors compare a prediction with the *target embedding* of the real next frame (the target
encoder for JEPA, the encoder for the latent model): ``latent`` is the mean squared error per
latent dimension; ``copy_last`` is the same error for predicting "nothing changes" (the current
frame's embedding), so ``latent / copy_last < 1`` means the model knows how actions move things.
``visual`` and ``copy_last_visual`` restrict both to the visual part of the latent (the image
embedding without the state); ``state_mm`` reads the end-effector position from the predicted
latent and compares it with the real one, in millimetres; ``pixel`` (latent model) compares
decoded predictions with the real frame at the model's resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from hivla.evaluation.stats import auroc
from hivla.world_model.data import EpisodeArrays
from hivla.world_model.events import EVENT_NAMES, VIOLATIONS
from hivla.world_model.model import WorldModel

BATCH = 256


@dataclass
class EpisodeErrors:
    """Per-transition errors of one episode (arrays over transitions t -> t + 1)."""

    latent: np.ndarray
    copy_last: np.ndarray
    visual: np.ndarray
    copy_last_visual: np.ndarray
    state_mm: np.ndarray
    copy_last_state_mm: np.ndarray
    rollout: np.ndarray  # error of the K-step open-loop prediction ending at t + K (len T - K + 1)
    pixel: np.ndarray | None = None
    copy_last_pixel: np.ndarray | None = None
    success: bool = True
    info: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def encode_episode(model: WorldModel, ep: EpisodeArrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(context z float[N, D + S], target z float[N, D + S], frames float[N, C, 3, s, s]) of an episode."""
    cfg = model.config
    sized = ep.resized(cfg.image_size, cfg.cameras)
    frames = torch.stack(
        [torch.from_numpy(np.ascontiguousarray(sized.images[c])).permute(0, 3, 1, 2) for c in cfg.cameras],
        dim=1,
    )  # (N, C, 3, s, s) uint8
    frames = frames.float().div(255.0).to(model.device)
    state = torch.from_numpy(ep.state).to(model.device)
    ctx, tgt = [], []
    for i in range(0, len(frames), BATCH):
        ctx.append(model.encode_frames(frames[i : i + BATCH], state[i : i + BATCH]))
        tgt.append(model.encode_target_frames(frames[i : i + BATCH], state[i : i + BATCH]))
    return torch.cat(ctx), torch.cat(tgt), frames


@torch.no_grad()
def episode_errors(model: WorldModel, ep: EpisodeArrays, horizon: int | None = None) -> EpisodeErrors:
    """One-step and ``horizon``-step (default: the model's) errors over every transition of ``ep``."""
    model.eval()
    k = horizon or model.config.horizon
    z, target, frames = encode_episode(model, ep)
    t_n = ep.transitions
    actions = torch.from_numpy(ep.action[:t_n]).to(model.device)
    pred = model.step(z[:t_n], actions)  # (T, D)
    d = model.config.latent_dim
    err = ((pred - target[1 : t_n + 1]) ** 2).cpu().numpy()  # (T, D + S)
    copy_err = ((target[:t_n] - target[1 : t_n + 1]) ** 2).cpu().numpy()
    latent, copy = err.mean(-1), copy_err.mean(-1)
    visual, copy_visual = err[:, :d].mean(-1), copy_err[:, :d].mean(-1)
    ee_pred = model.decode_state(pred)[:, :3].cpu().numpy()
    ee_next = ep.state[1 : t_n + 1, :3]
    state_mm = 1000.0 * np.linalg.norm(ee_pred - ee_next, axis=-1)
    copy_mm = 1000.0 * np.linalg.norm(ep.state[:t_n, :3] - ee_next, axis=-1)
    rollout = np.zeros(0, np.float32)
    if t_n >= k:
        starts = torch.arange(t_n - k + 1)
        chunks = torch.stack([actions[s : s + k] for s in starts.tolist()])  # (T-K+1, K, A)
        end = model.rollout(z[starts], chunks)[:, -1]  # (T-K+1, D)
        rollout = ((end - target[starts + k]) ** 2).mean(-1).cpu().numpy()
    out = EpisodeErrors(
        latent, copy, visual, copy_visual, state_mm, copy_mm, rollout, success=ep.success, info=dict(ep.info)
    )
    if hasattr(model, "decode"):
        imagined = model.decode(pred)  # (T, C, 3, s, s)
        real = frames[1 : t_n + 1]
        out.pixel = ((imagined - real) ** 2).mean(dim=(1, 2, 3, 4)).cpu().numpy()
        out.copy_last_pixel = ((frames[:t_n] - real) ** 2).mean(dim=(1, 2, 3, 4)).cpu().numpy()
    return out


def summarize_errors(errors: Sequence[EpisodeErrors]) -> dict[str, Any]:
    """Pooled means over all transitions, and the ratios to the copy-last baselines."""

    def pooled(name: str) -> float | None:
        arrays = [getattr(e, name) for e in errors if getattr(e, name) is not None and len(getattr(e, name))]
        return float(np.concatenate(arrays).mean()) if arrays else None

    out: dict[str, Any] = {name: pooled(name) for name in (
        "latent", "copy_last", "visual", "copy_last_visual", "state_mm", "copy_last_state_mm", "rollout",
        "pixel", "copy_last_pixel")}  # fmt: skip
    out["latent_vs_copy_last"] = out["latent"] / out["copy_last"] if out["copy_last"] else None
    out["visual_vs_copy_last"] = out["visual"] / out["copy_last_visual"] if out["copy_last_visual"] else None
    out["state_vs_copy_last"] = (
        out["state_mm"] / out["copy_last_state_mm"] if out["copy_last_state_mm"] else None
    )
    if out["pixel"] is not None and out["copy_last_pixel"]:
        out["pixel_vs_copy_last"] = out["pixel"] / out["copy_last_pixel"]
    out["transitions"] = int(sum(len(e.latent) for e in errors))
    out["episodes"] = len(errors)
    return out


@torch.no_grad()
def chunk_predictions(
    model: WorldModel, ep: EpisodeArrays, horizon: int, stride: int = 1
) -> dict[str, np.ndarray]:
    """Imagine every ``horizon``-step chunk of the episode's own actions (start every ``stride``)
    and return, per start: predicted max event probabilities float[M, E] and actual event
    occurrence within the chunk float[M, E] (NaN unknown); predicted and actual subtask
    outcome float[M] (done within the chunk or, from its last frame, within the outcome horizon)."""
    model.eval()
    z, _, _ = encode_episode(model, ep)
    t_n = ep.transitions
    starts = list(range(0, t_n - horizon + 1, stride))
    if not starts:
        e = len(EVENT_NAMES)
        return {
            "event_pred": np.zeros((0, e)),
            "event_true": np.zeros((0, e)),
            "outcome_pred": np.zeros(0),
            "outcome_true": np.zeros(0),
        }
    actions = torch.from_numpy(ep.action[:t_n]).to(model.device)
    chunks = torch.stack([actions[s : s + horizon] for s in starts])  # (M, H, A)
    zs, probs = model.imagine_events(z[starts], chunks)  # (M, H, D), (M, H, E)
    event_pred = probs.max(dim=1).values.cpu().numpy()
    windows = np.stack([ep.events[s : s + horizon] for s in starts])  # (M, H, E)
    with np.errstate(invalid="ignore"):
        event_true = np.where(
            np.isnan(windows).all(1), np.nan, np.nanmax(np.nan_to_num(windows, nan=0.0), axis=1)
        )
    done = EVENT_NAMES.index("subtask_done")
    p_done = 1.0 - torch.prod(1.0 - probs[..., done], dim=1)  # (M,)
    outcome_pred = (p_done + (1.0 - p_done) * model.outcome_prob(zs[:, -1])).cpu().numpy()
    later = ep.outcome_labels(model.config.outcome_horizon)
    outcome_true = np.array(
        [max(float(event_true[i, done] > 0), later[s + horizon]) for i, s in enumerate(starts)]
    )
    return {
        "event_pred": event_pred,
        "event_true": event_true,
        "outcome_pred": outcome_pred,
        "outcome_true": outcome_true,
    }


def prediction_scores(model: WorldModel, episodes: Sequence[EpisodeArrays], horizon: int) -> dict[str, Any]:
    """AUROC of imagined events (each, and "any violation") and of the imagined subtask outcome."""
    parts = [chunk_predictions(model, ep, horizon, stride=max(1, horizon // 2)) for ep in episodes]
    pred = np.concatenate([p["event_pred"] for p in parts])
    true = np.concatenate([p["event_true"] for p in parts])
    out: dict[str, Any] = {"chunks": len(pred), "horizon": horizon, "events": {}}
    for j, name in enumerate(model.config.events):
        known = ~np.isnan(true[:, j])
        out["events"][name] = {
            "auroc": auroc(pred[known, j], true[known, j]),
            "positives": int(np.nansum(true[known, j])),
            "n": int(known.sum()),
        }
    idx = [model.config.events.index(v) for v in VIOLATIONS if v in model.config.events]
    known = ~np.isnan(true[:, idx]).any(1)
    any_pred = 1.0 - np.prod(1.0 - pred[:, idx], axis=1)
    any_true = (np.nan_to_num(true[:, idx]) > 0).any(1)
    out["any_violation"] = {
        "auroc": auroc(any_pred[known], any_true[known]),
        "positives": int(any_true[known].sum()),
        "n": int(known.sum()),
    }
    op = np.concatenate([p["outcome_pred"] for p in parts])
    ot = np.concatenate([p["outcome_true"] for p in parts])
    out["outcome"] = {"auroc": auroc(op, ot), "positives": int(ot.sum()), "n": len(ot)}
    return out
