"""Subtask monitor: decides done / running / failed for the current subtask.

``done`` comes from a learned success detector trained on a dataset's subtask boundaries: frames of
subtask k are "running" for k; the first frames after the boundary are "done" for k. ``failed`` comes
from two checks any robot has: the subtask ran past its step budget, or the hand closed on nothing
while the subtask needs a held object (a drop).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.models.language import HashWordEncoder, LanguageConfig
from hivla.models.vision import ResNetEncoder, VisionConfig
from hivla.types import Subtask

COMMON_STATE = 10  # ee xyz, ee rotation (6), gripper width: the same layout on every embodiment
GRIPPER_WIDTH = 9
CAMERAS = ("front", "wrist")
FORMAT_VERSION = 1
WEIGHTS_FILE = "monitor.safetensors"
# Version-1 monitor.json files written before the "format" key was added still load.
MONITOR_FORMAT = CheckpointFormat(
    "hivla.subtask_monitor", FORMAT_VERSION, "monitor.json", "subtask monitor",
    "`hivla monitor train` or SubtaskMonitor.save", unnamed_ok=True, indent=1,
)  # fmt: skip

DONE, RUNNING, FAILED = "done", "running", "failed"


@dataclass(frozen=True)
class MonitorConfig:
    widths: tuple[int, ...] = (16, 32, 64)
    text_dim: int = 32
    hidden: int = 128
    after_boundary: int = 3  # frames after a boundary labelled "done" for the finished subtask
    ambiguous: int = 2  # last frames before a boundary: left out (they look like the first ones after)
    steps: int = 800
    batch_size: int = 64
    lr: float = 1e-3
    threshold: float = 0.5
    confirm: int = 2  # consecutive "done" votes before reporting done
    step_budget: int = 80  # control steps per subtask before it counts as failed
    seed: int = 0

    def __post_init__(self) -> None:
        if (
            min(self.text_dim, self.hidden, self.after_boundary, self.steps, self.batch_size, self.confirm)
            < 1
        ):
            raise ValueError(f"monitor sizes must be positive: {self}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")


class SuccessDetector(nn.Module):
    """p(subtask done | front + wrist images, common proprio, subtask text)."""

    def __init__(self, cfg: MonitorConfig) -> None:
        super().__init__()
        self.vision = ResNetEncoder(VisionConfig(kind="cnn", widths=cfg.widths))
        self.text = HashWordEncoder(LanguageConfig(kind="hash", dim=cfg.text_dim, max_words=12, buckets=2048))
        width = cfg.widths[-1] * len(CAMERAS) + cfg.text_dim + COMMON_STATE
        self.head = nn.Sequential(nn.Linear(width, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def forward(self, images: torch.Tensor, state: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """images float[B, cams, 3, H, W] in [0, 1]; state float[B, >= 10]; -> logits float[B]."""
        b, c = images.shape[:2]
        feats = self.vision(images.flatten(0, 1)).mean(1)  # (B*cams, C)
        feats = feats.view(b, c * feats.shape[-1])  # (B, cams*C)
        tokens, valid = self.text(texts)  # (B, L, D), (B, L)
        text = (tokens * valid[..., None]).sum(1) / valid.sum(1, keepdim=True)  # (B, D)
        x = torch.cat([feats, text, state[:, :COMMON_STATE]], dim=-1)
        return self.head(x).squeeze(-1)


@dataclass
class MonitorData:
    images: torch.Tensor  # uint8[N, cams, 3, H, W]
    state: torch.Tensor  # float32[N, 10]
    texts: list[str]
    labels: torch.Tensor  # float32[N]
    episodes: np.ndarray  # int[N]


def monitor_examples(dataset, after_boundary: int, ambiguous: int = 2) -> MonitorData:
    """(frame, subtask text, done?) examples from a ChunkDataset (horizon 1).

    Every frame is "running" (0) for its own subtask, except the last ``ambiguous`` frames before the
    subtask ends; the first ``after_boundary`` frames after subtask k hands over to k + 1 are "done"
    (1) for subtask k.
    """
    by_episode: dict[int, list[tuple]] = {}
    for i in range(len(dataset)):
        s = dataset[i]
        img = torch.stack([s[f"observation.images.{c}"][0] for c in CAMERAS])  # (cams, 3, H, W)
        frame = (int(s["frame_index"]), int(s["subtask_index"]), s["subtask"],
                 (img * 255).round().to(torch.uint8), s["observation.state"][0, :COMMON_STATE].float())  # fmt: skip
        by_episode.setdefault(int(s["episode_index"]), []).append(frame)
    images, state, texts, labels, episodes = [], [], [], [], []
    for ep, frames in by_episode.items():
        frames.sort(key=lambda f: f[0])
        for j, (_, k, text, img, st) in enumerate(frames):
            ends_soon = any(f[1] != k for f in frames[j + 1 : j + 1 + ambiguous])
            examples = [] if ends_soon else [(text, 0.0)]
            boundary = next((b for b in range(j, -1, -1) if b == 0 or frames[b - 1][1] != k), 0)
            if boundary > 0 and j - boundary < after_boundary:
                examples.append((frames[boundary - 1][2], 1.0))  # the subtask that just finished
            for t, label in examples:
                (
                    images.append(img),
                    state.append(st),
                    texts.append(t),
                    labels.append(label),
                    episodes.append(ep),
                )
    return MonitorData(
        torch.stack(images), torch.stack(state), texts, torch.tensor(labels), np.array(episodes)
    )


class SubtaskMonitor:
    """``status(obs, subtask) -> "done" | "running" | "failed"``; ``reset()`` per subtask."""

    def __init__(self, cfg: MonitorConfig | None = None, net: SuccessDetector | None = None) -> None:
        self.cfg = cfg or MonitorConfig()
        self.net = net or SuccessDetector(self.cfg)
        self.net.eval()
        self.reset()

    def reset(self) -> None:
        self.steps, self.votes = 0, 0

    @torch.no_grad()
    def done_probability(self, obs: dict, subtask: Subtask) -> float:
        images = torch.stack([torch.from_numpy(np.ascontiguousarray(obs["images"][c])) for c in CAMERAS])
        images = images.permute(0, 3, 1, 2)[None].float() / 255.0  # (1, cams, 3, H, W)
        state = torch.as_tensor(np.asarray(obs["state"], np.float32))[None]
        return float(torch.sigmoid(self.net(images, state, [subtask.text]))[0])

    def status(self, obs: dict, subtask: Subtask, steps: int = 1) -> str:
        """Call once per control step (``steps``: how many env steps since the last call)."""
        self.steps += steps
        if self.done_probability(obs, subtask) > self.cfg.threshold:
            self.votes += 1
            if self.votes >= self.cfg.confirm:
                return DONE
        else:
            self.votes = 0
        if self.steps > self.cfg.step_budget or _dropped(obs, subtask):
            return FAILED
        return RUNNING

    # ---- training ------------------------------------------------------------------------------
    def fit(
        self,
        data: MonitorData,
        log_every: int = 0,
        out: str | Path | None = None,
        resume: bool = False,
        stop_at: int | None = None,
        val: MonitorData | None = None,
    ) -> list[float]:
        """Train the success detector with the trainer core (``hivla.planning.training.MonitorTask``);
        return the losses of the steps taken. ``out``: a run directory for checkpoints and logs
        (``resume`` continues it exactly); ``val``: examples for the logged validation loss."""
        from hivla.planning.training import MonitorTask
        from hivla.training.core import TrainerCore, check_new_run

        check_new_run(out, resume)
        task = MonitorTask(self, data, val, log_every)
        result = TrainerCore(task, out, resume=resume, quiet=not log_every).fit(stop_at=stop_at)
        self.net.eval()
        return result["losses"]

    @torch.no_grad()
    def evaluate(self, data: MonitorData, batch: int = 256) -> dict[str, float]:
        """Frame-level precision / recall / accuracy of the done detector at the threshold."""
        probs = []
        for i in range(0, len(data.labels), batch):
            sl = slice(i, i + batch)
            probs.append(
                torch.sigmoid(self.net(data.images[sl].float() / 255.0, data.state[sl], data.texts[sl]))
            )
        pred = torch.cat(probs) > self.cfg.threshold
        truth = data.labels > 0.5
        tp = float((pred & truth).sum())
        return {
            "accuracy": float((pred == truth).float().mean()),
            "precision": tp / max(float(pred.sum()), 1.0),
            "recall": tp / max(float(truth.sum()), 1.0),
            "examples": len(truth),
            "positives": int(truth.sum()),
        }

    # ---- checkpoint ----------------------------------------------------------------------------
    def save(self, path: str | Path, weights: dict[str, torch.Tensor] | None = None) -> Path:
        """Write ``monitor.json`` and ``monitor.safetensors`` (``weights`` in place of the net's)."""
        path = Path(path)
        MONITOR_FORMAT.write_meta(path, {"kind": "subtask_monitor", "config": asdict(self.cfg)})
        save_weights(weights if weights is not None else self.net.state_dict(), path / WEIGHTS_FILE)
        return path

    @classmethod
    def load(cls, path: str | Path) -> SubtaskMonitor:
        meta = MONITOR_FORMAT.read_meta(path)
        cfg = MonitorConfig(**{**meta["config"], "widths": tuple(meta["config"]["widths"])})
        monitor = cls(cfg)
        monitor.net.load_state_dict(load_weights(Path(path) / WEIGHTS_FILE))
        monitor.net.eval()
        return monitor


def _dropped(obs: dict, subtask: Subtask) -> bool:
    """The hand closed on nothing while the subtask needs the object in hand."""
    if subtask.kind not in ("place", "stack"):
        return False
    return float(np.asarray(obs["state"])[GRIPPER_WIDTH]) < 0.004
