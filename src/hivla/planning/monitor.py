"""Subtask monitor: decides done / running / failed for the current subtask.

``done`` comes from a learned success detector trained on a dataset's subtask boundaries: frames of
subtask k are "running" for k; the first frames after the boundary are "done" for k. Its threshold
and confirmation count are calibrated for event-level F1 (``hivla.planning.events``) on episodes it
did not train on and saved with it. ``failed`` comes from two checks any robot has: the subtask ran
past its step budget, or the hand closed on nothing while the subtask needs a held object (a drop).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hivla.checkpoints import CheckpointFormat, CheckpointFormatError, load_weights, save_weights
from hivla.models.language import HashWordEncoder, LanguageConfig
from hivla.models.vision import ResNetEncoder, VisionConfig
from hivla.planning.events import TOLERANCE, EventCounts, first_done, match_events
from hivla.types import Subtask

COMMON_STATE = 10  # ee xyz, ee rotation (6), gripper width: the same layout on every embodiment
GRIPPER_WIDTH = 9
CAMERAS = ("front", "wrist")
# Version 2 added image_size (observations are resized to the training size) and calibrated
# threshold / confirm; version-1 files load through _migrate_v1 (no resizing, as they ran).
FORMAT_VERSION = 2
WEIGHTS_FILE = "monitor.safetensors"
MONITOR_FORMAT = CheckpointFormat(
    "hivla.subtask_monitor", FORMAT_VERSION, "monitor.json", "subtask monitor",
    "`hivla monitor train` or SubtaskMonitor.save", indent=1,
)  # fmt: skip
# Version-1 monitor.json files written before the "format" key was added still load.
MONITOR_FORMAT_V1 = CheckpointFormat(
    "hivla.subtask_monitor", 1, "monitor.json", "subtask monitor",
    "`hivla monitor train` or SubtaskMonitor.save", unnamed_ok=True, indent=1,
)  # fmt: skip
REFERENCE_LABELS = (3, 2)  # (after_boundary, ambiguous) of frame-level figures: version 1's labels

CALIBRATION_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 20))  # 0.1 .. 0.95
DONE, RUNNING, FAILED = "done", "running", "failed"


@dataclass(frozen=True)
class MonitorConfig:
    widths: tuple[int, ...] = (16, 32, 64)
    text_dim: int = 32
    hidden: int = 128
    # 8 frames after a boundary "done", the last frames before it "running" (hard negatives), 2000 steps,
    # with calibration: held-out event-level precision/recall 93%/93% on 500+500 tabletop-mixed
    # episodes (floating + arm6), against 69%/81% and 80%/82% for version 1's 3 / 2 / 800 steps.
    after_boundary: int = 8  # frames after a boundary labelled "done" for the finished subtask
    ambiguous: int = 0  # last frames before a boundary left out of the "running" examples
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    threshold: float = 0.5
    confirm: int = 2  # consecutive "done" votes before reporting done
    step_budget: int = 80  # control steps per subtask before it counts as failed
    seed: int = 0
    image_size: int | None = None  # training camera size: observations are resized to it (None: as given)

    def __post_init__(self) -> None:
        if (
            min(self.text_dim, self.hidden, self.after_boundary, self.steps, self.batch_size, self.confirm)
            < 1
        ):
            raise ValueError(f"monitor sizes must be positive: {self}")
        if self.ambiguous < 0:
            raise ValueError(f"ambiguous must be >= 0, got {self.ambiguous}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.image_size is not None and self.image_size < 8:
            raise ValueError(f"image_size must be >= 8 px or None, got {self.image_size}")


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


@dataclass
class MonitorEpisode:
    """One recorded episode, frame by frame, as the monitor sees it."""

    images: torch.Tensor  # uint8[T, cams, 3, H, W]
    state: torch.Tensor  # float32[T, 10]
    subtask_index: np.ndarray  # int[T]
    texts: list[str]  # the recorded subtask text of every frame
    key: int  # unique over the episodes loaded together

    def segments(self) -> list[tuple[int, int, str]]:
        """(first frame, end frame (exclusive), text) of each recorded subtask, in order."""
        starts = [0, *(int(t) for t in np.flatnonzero(np.diff(self.subtask_index)) + 1)]
        ends = [*starts[1:], len(self.texts)]
        return [(s, e, self.texts[s]) for s, e in zip(starts, ends, strict=True)]


def load_episodes(datasets: list[Any]) -> list[MonitorEpisode]:
    """The episodes of one or more ChunkDatasets (horizon 1), images as uint8."""
    episodes = []
    for d, dataset in enumerate(datasets):
        by_episode: dict[int, list[tuple]] = {}
        for i in range(len(dataset)):
            s = dataset[i]
            img = torch.stack([s[f"observation.images.{c}"][0] for c in CAMERAS])  # (cams, 3, H, W)
            if img.dtype != torch.uint8:
                img = (img * 255).round().to(torch.uint8)
            frame = (int(s["frame_index"]), int(s["subtask_index"]), s["subtask"], img,
                     s["observation.state"][0, :COMMON_STATE].float())  # fmt: skip
            by_episode.setdefault(int(s["episode_index"]), []).append(frame)
        for ep, frames in sorted(by_episode.items()):
            frames.sort(key=lambda f: f[0])
            episodes.append(
                MonitorEpisode(
                    torch.stack([f[3] for f in frames]), torch.stack([f[4] for f in frames]),
                    np.array([f[1] for f in frames]), [f[2] for f in frames], d * 1_000_000 + ep,
                )
            )  # fmt: skip
    return episodes


def monitor_examples(source: Any, after_boundary: int, ambiguous: int = 2) -> MonitorData:
    """(frame, subtask text, done?) examples from a ChunkDataset (horizon 1) or loaded episodes.

    Every frame is "running" (0) for its own subtask, except the last ``ambiguous`` frames before the
    subtask ends; the first ``after_boundary`` frames after subtask k hands over to k + 1 are "done"
    (1) for subtask k.
    """
    episodes = source if isinstance(source, list) else load_episodes([source])
    rows: list[tuple[int, int, str, float]] = []  # (episode number, frame, text, label)
    for n, ep in enumerate(episodes):
        segments = ep.segments()
        for k, (start, end, text) in enumerate(segments):
            last = end if k == len(segments) - 1 else end - ambiguous
            rows += [(n, j, text, 0.0) for j in range(start, last)]
            if k > 0:
                done = segments[k - 1][2]
                rows += [(n, j, done, 1.0) for j in range(start, min(end, start + after_boundary))]
    if not rows:
        raise ValueError("no monitor examples: the episodes are empty")
    index = torch.tensor([[n, j] for n, j, _, _ in rows])  # (N, 2)
    return MonitorData(
        torch.stack([episodes[n].images[j] for n, j in index.tolist()]),
        torch.stack([episodes[n].state[j] for n, j in index.tolist()]),
        [r[2] for r in rows],
        torch.tensor([r[3] for r in rows]),
        np.array([episodes[n].key for n, _, _, _ in rows]),
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
    def probabilities(self, images: torch.Tensor, state: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """images uint8[B, cams, 3, H, W]; state float[B, >= 10] -> p(done) float[B]."""
        x = images.float() / 255.0  # (B, cams, 3, H, W)
        size = self.cfg.image_size
        if size is not None and tuple(x.shape[-2:]) != (size, size):
            b, c = x.shape[:2]
            x = nn.functional.interpolate(x.flatten(0, 1), size=(size, size), mode="area")
            x = x.view(b, c, 3, size, size).clamp(0.0, 1.0)  # (B, cams, 3, size, size)
        return torch.sigmoid(self.net(x, state, texts))

    def done_probability(self, obs: dict, subtask: Subtask) -> float:
        images = torch.stack([torch.from_numpy(np.ascontiguousarray(obs["images"][c])) for c in CAMERAS])
        images = images.permute(0, 3, 1, 2)[None]  # (1, cams, 3, H, W)
        state = torch.as_tensor(np.asarray(obs["state"], np.float32))[None]
        return float(self.probabilities(images, state, [subtask.text])[0])

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
        probs = [
            self.probabilities(
                data.images[i : i + batch], data.state[i : i + batch], data.texts[i : i + batch]
            )
            for i in range(0, len(data.labels), batch)
        ]
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

    # ---- event level ---------------------------------------------------------------------------
    @torch.no_grad()
    def replay(self, episodes: list[MonitorEpisode], tolerance: int = TOLERANCE) -> list[Replay]:
        """p(done) of each recorded subtask over the frames the closed loop would ask about it.

        Subtask k is asked about from its first frame until ``tolerance`` frames after its true end
        (the hierarchy keeps k until the monitor says done, so a late detection still counts); the
        last subtask, whose completion is not recorded, up to ``tolerance`` frames before the end
        (a detection there is always a false one)."""
        out = []
        for ep in episodes:
            segments, n = ep.segments(), len(ep.texts)
            for k, (start, end, text) in enumerate(segments):
                last = k == len(segments) - 1
                stop = n - tolerance if last else min(n, end + tolerance + 1)
                if stop <= start:
                    continue
                frames = slice(start, stop)
                probs = self.probabilities(ep.images[frames], ep.state[frames], [text] * (stop - start))
                out.append(Replay(ep.key, start, None if last else end, probs.numpy()))
        return out

    def event_metrics(
        self, episodes: list[MonitorEpisode], tolerance: int = TOLERANCE, replays: list[Replay] | None = None
    ) -> dict[str, float]:
        """Event-level precision / recall / F1 of ``done`` at the monitor's threshold and confirm."""
        replays = self.replay(episodes, tolerance) if replays is None else replays
        return score_replays(replays, self.cfg.threshold, self.cfg.confirm, tolerance).as_dict()

    def calibrate(
        self, episodes: list[MonitorEpisode], thresholds: tuple[float, ...] = CALIBRATION_THRESHOLDS,
        confirms: tuple[int, ...] = (1, 2, 3), tolerance: int = TOLERANCE, beta: float = 1.0,
    ) -> dict[str, float]:  # fmt: skip
        """Set threshold and confirm to the pair with the best event-level F-beta on ``episodes``
        (ties: the higher threshold, then the larger confirm); return that pair's metrics."""
        replays = self.replay(episodes, tolerance)
        scored = [
            (score_replays(replays, t, c, tolerance).fbeta(beta), t, c) for t in thresholds for c in confirms
        ]
        _, threshold, confirm = max(scored)
        self.cfg = replace(self.cfg, threshold=threshold, confirm=confirm)
        return {
            "threshold": threshold,
            "confirm": confirm,
            **self.event_metrics(episodes, tolerance, replays),
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
        """Read a monitor directory (format version 2, or version 1 migrated on the fly)."""
        try:
            meta = MONITOR_FORMAT.read_meta(path)
        except CheckpointFormatError as err:
            try:
                meta = _migrate_v1(MONITOR_FORMAT_V1.read_meta(path))
            except CheckpointFormatError:
                raise err from None  # neither version: say what this hivla writes
        cfg = MonitorConfig(**{**meta["config"], "widths": tuple(meta["config"]["widths"])})
        monitor = cls(cfg)
        monitor.net.load_state_dict(load_weights(Path(path) / WEIGHTS_FILE))
        monitor.net.eval()
        return monitor


@dataclass(frozen=True)
class Replay:
    """One recorded subtask replayed through the detector (see :meth:`SubtaskMonitor.replay`)."""

    episode: int
    start: int  # the frame of probs[0]
    event: int | None  # the frame where the subtask really completed (None: not recorded)
    probs: np.ndarray  # float[frames]: p(done) of this subtask, from ``start`` on


def score_replays(
    replays: list[Replay], threshold: float, confirm: int, tolerance: int = TOLERANCE
) -> EventCounts:
    """Event counts of a monitor with this threshold and confirm over replayed subtasks: at most
    one detection per subtask (the first done, after which the closed loop moves on)."""
    detections: dict[int, list[int]] = {}
    events: dict[int, list[int]] = {}
    for r in replays:
        t = first_done(r.probs, threshold, confirm)
        detections.setdefault(r.episode, []).extend([] if t is None else [r.start + t])
        events.setdefault(r.episode, []).extend([] if r.event is None else [r.event])
    total = EventCounts()
    for ep in detections:
        total = total + match_events(detections[ep], events[ep], tolerance)
    return total


def _migrate_v1(meta: dict[str, Any]) -> dict[str, Any]:
    """A version-1 monitor.json as version 2: no image_size (observations were not resized)."""
    return {**meta, "format_version": FORMAT_VERSION, "config": {**meta["config"], "image_size": None}}


def _dropped(obs: dict, subtask: Subtask) -> bool:
    """The hand closed on nothing while the subtask needs the object in hand."""
    if subtask.kind not in ("place", "stack"):
        return False
    return float(np.asarray(obs["state"])[GRIPPER_WIDTH]) < 0.004


def dataset_episodes(
    paths: list[Path], split: str = "all", val_fraction: float = 0.2
) -> list[MonitorEpisode]:
    """The ``split`` episodes (train | val | all, by each dataset's seeded episode split) of datasets."""
    from hivla.data import ChunkDataset, EpisodeFilter, LoaderConfig

    flt = EpisodeFilter(split=split, val_fraction=val_fraction)
    return load_episodes(
        [ChunkDataset(p, LoaderConfig(horizon=1, filter=flt, uint8_images=True)) for p in paths]
    )


def data_paths(data: str) -> list[Path]:
    """Comma-separated dataset directories -> paths (each must exist)."""
    paths = [Path(p.strip()) for p in str(data).split(",") if p.strip()]
    if not paths:
        raise ValueError(f"--data {data!r} names no dataset: pass one or more directories, comma-separated")
    for p in paths:
        if not p.is_dir():
            raise FileNotFoundError(
                f"dataset {p} does not exist: pass directories written by `hivla collect`"
            )
    return paths
