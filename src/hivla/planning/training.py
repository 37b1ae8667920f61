"""The learned planner and the subtask monitor adapted to the trainer core (``hivla.training.core``).

Each task wraps its network in a small ``nn.Module`` whose ``forward(batch)`` is the training loss,
and maps the model's own optimizer settings onto a ``TrainConfig``: the planner keeps its one-cycle
schedule and gradient clipping, the monitor its constant learning rate without clipping; both use
AdamW (0.9, 0.999) with weight decay 1e-4 and no EMA, as their hand-written loops did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from hivla.configs.presets import TrainConfig
from hivla.planning.corpus import Example
from hivla.planning.text_features import UNK, build_vocab
from hivla.training.core import Split, TrainingTask
from hivla.training.data import RowsDataset

# The models call these tasks from their fit(): the tasks use only the planner (a LearnedPlanner),
# monitor (a SubtaskMonitor), configs, data and networks they are given, never import their modules.

# The planner's loop replaced 10% of the words by <unk> (PlannerConfig.word_dropout is not read; kept
# as trained so that accuracy figures stay comparable).
WORD_DROPOUT = 0.1
WEIGHT_DECAY = 1e-4
BETAS = (0.9, 0.999)


def train_config(cfg: Any | Any, schedule: str, grad_clip: float, log_every: int) -> TrainConfig:
    """The core's settings for a planner or monitor config (its own steps, batch, LR and seed)."""
    return TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, schedule=schedule, warmup_steps=0,
        weight_decay=WEIGHT_DECAY, betas=BETAS, grad_clip=grad_clip, seed=cfg.seed,
        log_every=log_every or 100, save_every=0, keep_checkpoints=1,
    )  # fmt: skip


def _unwrapped(weights: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor] | None:
    """State-dict keys of the wrapped ``net`` (the wrappers below hold it as ``self.net``)."""
    return None if weights is None else {k.removeprefix("net."): v for k, v in weights.items()}


class TaggerLoss(nn.Module):
    """Training view of a :class:`TaggerNet`: cross-entropy of the step tags plus the roles."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        ids = batch["ids"]  # (B, T), 0 = padding
        if self.training:  # unknown words at test time (new paraphrases) look like <unk> here
            ids = ids.masked_fill(torch.rand(ids.shape) < WORD_DROPOUT, UNK) * (ids > 0)
        steps, roles = self.net(ids, batch.get("feats"))  # (B, T, tags), (B, T, roles)
        ce = nn.functional.cross_entropy
        step_loss = ce(steps.flatten(0, 1), batch["step_y"].flatten(), ignore_index=-100)
        role_loss = ce(roles.flatten(0, 1), batch["role_y"].flatten(), ignore_index=-100)
        loss = step_loss + role_loss
        return loss, {"loss": float(loss.detach()), "step_loss": float(step_loss.detach())}


class PlannerTask(TrainingTask):
    """Trains ``planner`` in place on ``examples`` (its vocabulary is built from them)."""

    name = "planner"

    def __init__(self, planner: Any, examples: list[Example], log_every: int = 0) -> None:
        super().__init__(train_config(planner.cfg, "one_cycle", 1.0, log_every))
        self.planner, self.examples = planner, examples

    def build(self, accelerator: Any, resume_from: Path | None) -> TaggerLoss:
        p = self.planner
        if resume_from is not None:
            loaded = type(p).load(resume_from)
            p.vocab, p.index, p.net = loaded.vocab, loaded.index, loaded.net
        else:
            p.vocab = build_vocab([e.words for e in self.examples])
            p.index = {w: i for i, w in enumerate(p.vocab)}
            p.net = p.build_net()
        ids, feats, step_y, role_y = p._tensors(self.examples, labels=True)
        self.train_split = Split(
            RowsDataset(ids=ids, feats=feats, step_y=step_y, role_y=role_y), range(len(ids))
        )
        return TaggerLoss(p.net).to(accelerator.device).train()

    def save(self, model: TaggerLoss, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        self.planner.save(path, weights=_unwrapped(weights))


class DetectorLoss(nn.Module):
    """Training view of a :class:`SuccessDetector`: class-weighted binary cross-entropy."""

    def __init__(self, net: nn.Module, pos_weight: float) -> None:
        super().__init__()
        self.net, self.pos_weight = net, pos_weight

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        images = batch["images"].float() / 255.0  # (B, cams, 3, H, W)
        logits = self.net(images, batch["state"], batch["text"])  # (B,)
        weight = torch.tensor(self.pos_weight, device=logits.device)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, batch["label"], pos_weight=weight)
        return loss, {"loss": float(loss.detach())}


def _monitor_rows(data: Any) -> Split:
    rows = RowsDataset(images=data.images, state=data.state, text=data.texts, label=data.labels)
    return Split(rows, range(len(rows)))


class MonitorTask(TrainingTask):
    """Trains ``monitor``'s success detector in place on ``data`` (``val``: logged validation loss)."""

    name = "monitor"

    def __init__(self, monitor: Any, data: Any, val: Any | None = None, log_every: int = 0) -> None:
        super().__init__(train_config(monitor.cfg, "constant", 0.0, log_every))
        self.monitor, self.data, self.val = monitor, data, val

    def build(self, accelerator: Any, resume_from: Path | None) -> DetectorLoss:
        if resume_from is not None:
            self.monitor.net = type(self.monitor).load(resume_from).net
        self.train_split = _monitor_rows(self.data)
        self.val_split = _monitor_rows(self.val) if self.val is not None and len(self.val.labels) else None
        pos = float(self.data.labels.sum())
        pos_weight = (len(self.data.labels) - pos) / max(pos, 1.0)
        return DetectorLoss(self.monitor.net, pos_weight).to(accelerator.device).train()

    def save(self, model: DetectorLoss, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        self.monitor.save(path, weights=_unwrapped(weights))
