"""Latent pretraining of the VLA (LAPA, Ye et al. 2024): before it sees any action, the policy's
encoders and backbone learn to predict, from frame t and the instruction, the latent action codes
that a trained latent action model infers from frames (t, t+k) of action-free videos. Fine-tuning
with actions (``hivla train --init-latent``) then starts from these weights with a new action head.

The pretraining model is the VLA's own ``VLAModel`` (built for the robot it will be fine-tuned on,
so every shape matches) with a linear latent head on its readouts; videos have no proprioception, so
the state token sees the normalized mean state (zeros). Codes are computed once per run by the
frozen latent action model. Checkpoints: ``hivla.policies.vla.latent_init``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hivla.checkpoints import load_weights, save_weights
from hivla.configs.presets import PRESETS, TrainConfig
from hivla.data import EpisodeFilter, VideoClipDataset
from hivla.data import format as fmt
from hivla.latent_actions.checkpoint import load_latent_model
from hivla.latent_actions.data import resize
from hivla.models.vision import forget_attention
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.policies.vla.latent_init import LATENT_VLA_FORMAT, VLA_PREFIX, WEIGHTS_FILE
from hivla.policies.vla.modeling_vla import VLAModel
from hivla.policies.vla.processor_vla import random_shift, resize_images
from hivla.training.core import Split, TrainerCore, TrainingTask, check_new_run
from hivla.training.data import split_indices
from hivla.utils.serialization import config_from_dict, config_to_dict

EXPERIMENT_FILE = "experiment.json"


@dataclass(frozen=True)
class LatentPretrainConfig:
    """One ``hivla latent pretrain`` run.

    ``lam``: the latent action model (a ``hivla latent train`` run or checkpoint) that labels the
    videos. ``data``: dataset directories whose videos are read (actions, if any, are ignored).
    ``policy``: the VLA architecture, resolved for ``embodiment`` (the robot it will be fine-tuned
    on); build it with :func:`policy_for`. ``max_episodes`` per dataset (0: all).
    """

    lam: str
    data: tuple[str, ...]
    policy: VLAConfig
    embodiment: str = "floating"
    train: TrainConfig = field(default_factory=TrainConfig)
    val_fraction: float = 0.1
    max_episodes: int = 0

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("pass the datasets whose videos are pretrained on (--data DATASET ...)")
        if not self.policy.resolved:
            raise ValueError("policy must be resolved for the fine-tuning robot: build it with policy_for()")
        if self.policy.head.discrete:
            raise ValueError(
                f"pretrain with a continuous-head preset (the head is new at fine-tuning anyway, where "
                f"--head {self.policy.head.kind} may be chosen), got head {self.policy.head.kind!r}"
            )
        if not 0.0 <= self.val_fraction < 1.0 or self.max_episodes < 0:
            raise ValueError("val_fraction must be within [0, 1) and max_episodes >= 0")


def policy_for(preset: str, embodiment: str, action_space: str = "", language: str = "") -> VLAConfig:
    """The VLA config of ``preset`` resolved for ``embodiment`` (state and action sizes) as ``hivla
    train`` would resolve it on that robot's data; ``action_space``, ``language`` override."""
    from hivla.training.data import embodiment_dims

    cfg = PRESETS.get(preset).policy
    if action_space:
        cfg = dataclasses.replace(cfg, action_space=action_space)
    if language:
        cfg = dataclasses.replace(cfg, language_key=language)
    from hivla.sim import embodiment_info

    state_dim, native_dim = embodiment_dims(embodiment)
    universal_dim = int(getattr(embodiment_info(embodiment), "universal_dim", 7))  # 10 with a base
    action_dim = universal_dim if cfg.action_space == "universal" else native_dim
    return dataclasses.replace(cfg, embodiments=(embodiment,), state_dim=state_dim, action_dim=action_dim)


class LatentVLA(nn.Module):
    """``VLAModel`` + a latent head: images and instruction -> logits float[B, K, V] of the codes.

    Batch: ``observation.images.<cam>`` float[B, 3, H, W] (frame t), ``task``/``subtask`` strings,
    ``latent_codes`` long[B, K]."""

    def __init__(self, cfg: VLAConfig, tokens: int, codebook_size: int) -> None:
        super().__init__()
        self.cfg, self.tokens, self.codebook_size = cfg, tokens, codebook_size
        self.vla = VLAModel(cfg)
        self.latent_head = nn.Linear(cfg.backbone.readouts * cfg.backbone.dim, tokens * codebook_size)

    def inputs(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Model inputs of ``VLAModel.perceive``: resized images (shifted while training), texts,
        the mean state and embodiment 0."""
        cfg, device = self.cfg, self.latent_head.weight.device
        per_cam = [batch[fmt.image_key(c)].float() for c in cfg.cameras]
        images = resize_images(per_cam, cfg.image_size)  # (B, C, 3, s, s)
        if self.training and cfg.augment_shift:
            images, _ = random_shift(images, cfg.augment_shift)
        b = images.shape[0]
        return {
            "images": images.to(device),
            "texts": [str(t) for t in batch[cfg.language_key]],
            "state": torch.zeros(b, cfg.state_dim, device=device),
            "embodiment_id": torch.zeros(b, dtype=torch.long, device=device),
        }

    def logits(self, batch: dict[str, Any]) -> torch.Tensor:
        """-> float[B, K, V]."""
        readouts, _, _ = self.vla.encode(self.inputs(batch))  # (B, R, D)
        forget_attention(self.vla)  # no localization loss here: the keypoint logits are not read
        return self.latent_head(readouts.flatten(1)).view(-1, self.tokens, self.codebook_size)

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        logits = self.logits(batch)  # (B, K, V)
        codes = batch["latent_codes"].to(logits.device)  # (B, K)
        loss = F.cross_entropy(logits.flatten(0, 1), codes.flatten())
        acc = (logits.detach().argmax(-1) == codes).float().mean()
        return loss, {"loss": float(loss.detach()), "latent_acc": float(acc)}


class CodedClips(torch.utils.data.Dataset):
    """Frame t of the policy's cameras with the latent codes of (t, t+k), over several datasets."""

    def __init__(self, clips: list[VideoClipDataset], codes: list[torch.Tensor], cameras: tuple[str, ...]):
        self.parts = torch.utils.data.ConcatDataset(clips)
        self.codes = torch.cat(codes)  # (N, K)
        self.cameras = cameras

    def __len__(self) -> int:
        return len(self.parts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = self.parts[i]
        out = {fmt.image_key(c): item[fmt.image_key(c)][0] for c in self.cameras}  # (3, H, W) frame t
        out["task"] = item["task"]
        out["subtask"] = item.get("subtask", item["task"])
        out["latent_codes"] = self.codes[i]
        return out


@torch.no_grad()
def label_clips(lam: Any, clips: VideoClipDataset, batch: int = 64) -> torch.Tensor:
    """The latent action model's codes long[len(clips), K] of every clip (t, t+k)."""
    key, size, out = fmt.image_key(lam.cfg.camera), lam.cfg.image_size, []
    for start in range(0, len(clips), batch):
        frames = torch.stack(
            [resize(clips[i][key], size) for i in range(start, min(start + batch, len(clips)))]
        )
        out.append(lam.encode(frames))  # (b, K)
    return torch.cat(out) if out else torch.zeros(0, lam.cfg.tokens, dtype=torch.long)


class LatentPretrainTask(TrainingTask):
    """The :class:`LatentVLA` on coded clips of the run's datasets (episodes split into train/val)."""

    name = "latent pretrain"
    shuffle_val = True

    def __init__(self, cfg: LatentPretrainConfig, out: Path | None, quiet: bool = True) -> None:
        super().__init__(cfg.train)
        self.cfg, self.out, self.quiet = cfg, out, quiet

    def build(self, accelerator: Any, resume_from: Path | None) -> LatentVLA:
        cfg = self.cfg
        lam = load_latent_model(cfg.lam)
        cameras = tuple(dict.fromkeys([*cfg.policy.cameras, lam.cfg.camera]))
        clips, codes, groups = [], [], []
        for d, root in enumerate(cfg.data):
            flt = EpisodeFilter(episodes=_first_episodes(root, cfg.max_episodes))
            part = VideoClipDataset(root, clip_len=2, stride=lam.cfg.frame_gap, cameras=cameras, filter=flt)
            clips.append(part)
            codes.append(label_clips(lam, part))
            groups += (part.clip_episodes() + d * 10_000_000).tolist()
        data = CodedClips(clips, codes, cfg.policy.cameras)
        train_idx, val_idx = split_indices(len(data), cfg.val_fraction, self.train.seed, groups)
        self.train_split = Split(data, train_idx)
        self.val_split = Split(data, val_idx) if val_idx else None
        # the accuracy of always guessing each position's commonest code (what no image reading beats)
        shares = [torch.bincount(col).max() / max(len(col), 1) for col in data.codes.T]
        self.majority = float(torch.stack(shares).mean()) if len(data) else 0.0
        self.samples = len(data)
        model = LatentVLA(cfg.policy, lam.cfg.tokens, lam.cfg.codebook_size)
        if resume_from is not None:
            model.load_state_dict(load_weights(resume_from / WEIGHTS_FILE), strict=False)
        elif accelerator.is_main_process and self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(cfg), indent=2))
        return model.to(accelerator.device).train()

    def weights(self, model: LatentVLA) -> dict[str, torch.Tensor]:
        skip = tuple(f"{VLA_PREFIX}{p}" for p in model.vla.frozen_prefixes())
        return {k: v.detach().cpu() for k, v in model.state_dict().items() if not k.startswith(skip)}

    def load_weights(self, model: LatentVLA, weights: dict[str, torch.Tensor]) -> None:
        model.load_state_dict(weights, strict=False)

    def save(self, model: LatentVLA, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        path = Path(path)
        LATENT_VLA_FORMAT.write_meta(path, {
            "config": config_to_dict(model.cfg), "tokens": model.tokens, "codebook_size": model.codebook_size,
            "lam": str(self.cfg.lam), "data": list(self.cfg.data),
        })  # fmt: skip
        save_weights(weights if weights is not None else self.weights(model), path / WEIGHTS_FILE)

    def summary(self) -> dict[str, Any]:
        return {"samples": self.samples, "majority_code_acc": self.majority}


def _first_episodes(root: str, count: int) -> tuple[int, ...]:
    if not count:
        return ()
    from hivla.data import DatasetMeta

    return tuple(int(e["episode_index"]) for e in DatasetMeta.load(root).episodes[:count])


def load_run_config(run: str | Path) -> LatentPretrainConfig:
    return config_from_dict(LatentPretrainConfig, json.loads((Path(run) / EXPERIMENT_FILE).read_text()))


def pretrain(
    cfg: LatentPretrainConfig | None,
    out: str | Path | None,
    resume: bool = False,
    quiet: bool = False,
    stop_at: int | None = None,
) -> dict[str, Any]:
    """Pretrain ``cfg`` into run directory ``out`` (``resume``: continue its latest checkpoint with
    the config it was started with; ``cfg`` may then be None)."""
    out = Path(out) if out is not None else None
    check_new_run(out, resume)
    if resume:
        cfg = load_run_config(out)
    core = TrainerCore(LatentPretrainTask(cfg, out, quiet), out, resume=resume, quiet=quiet)
    return core.fit(stop_at=stop_at)
