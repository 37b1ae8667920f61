"""``hivla latent train``: the latent action model adapted to the trainer core (``hivla.training.core``),
which owns Accelerate, the optimizer and schedule, logs, checkpoints with ``train_state/`` for an
exact resume, and validation. Clips are split into train and val by episode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from hivla.latent_actions.checkpoint import load_latent_model, save_latent_model
from hivla.latent_actions.config import LatentExperimentConfig
from hivla.latent_actions.data import episode_groups, pair_datasets
from hivla.latent_actions.model import LatentActionModel
from hivla.training.core import Split, TrainerCore, TrainingTask, check_new_run
from hivla.training.data import split_indices
from hivla.utils.serialization import config_from_dict, config_to_dict

EXPERIMENT_FILE = "experiment.json"


def check_paths(paths: tuple[str, ...]) -> None:
    """Raise FileNotFoundError unless every path holds a dataset."""
    if not paths:
        raise ValueError("pass --data DATASET [DATASET ...]: directories written by `hivla collect`")
    for p in paths:
        if not (Path(p) / "meta" / "info.json").is_file():
            raise FileNotFoundError(
                f"{p} holds no dataset (no meta/info.json); record one with `hivla collect --out {p}` "
                "(--video-only for videos without actions)"
            )


class LatentActionTask(TrainingTask):
    """The latent action model on frame pairs of the run's datasets (episodes split into train/val)."""

    name = "latent actions"
    shuffle_val = True

    def __init__(self, exp: LatentExperimentConfig, out: Path | None) -> None:
        super().__init__(exp.train)
        self.exp, self.out = exp, out

    def build(self, accelerator: Any, resume_from: Path | None) -> LatentActionModel:
        exp = self.exp
        check_paths(exp.data.paths)
        data = pair_datasets(
            exp.data.paths, exp.model, "all", 0.0, self.train.seed, exp.data.max_episodes,
            exp.data.cache_mb << 20,
        )  # fmt: skip
        train_idx, val_idx = split_indices(
            len(data), exp.data.val_fraction, self.train.seed, episode_groups(data)
        )
        self.train_split = Split(data, train_idx)
        self.val_split = Split(data, val_idx) if val_idx else None
        self.labelled = sum(len(p) for p in data.datasets if p.has_actions)
        self.samples = len(data)
        if resume_from is not None:
            model = load_latent_model(resume_from)
        else:
            model = LatentActionModel(exp.model)
            if accelerator.is_main_process and self.out is not None:
                self.out.mkdir(parents=True, exist_ok=True)
                (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(exp), indent=2))
        return model.to(accelerator.device).train()

    def save(self, model: LatentActionModel, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        save_latent_model(model, path, weights=weights)

    def summary(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "samples_with_actions": self.labelled,
            "train_samples": len(self.train_split.indices),
            "val_samples": len(self.val_split.indices) if self.val_split else 0,
        }


def load_run_config(run: str | Path) -> LatentExperimentConfig:
    """The experiment config a run was started with."""
    return config_from_dict(LatentExperimentConfig, json.loads((Path(run) / EXPERIMENT_FILE).read_text()))


def train(
    exp: LatentExperimentConfig,
    out: str | Path | None,
    resume: bool = False,
    quiet: bool = False,
    stop_at: int | None = None,
) -> dict[str, Any]:
    """Train ``exp`` into run directory ``out`` (``resume``: continue from its latest checkpoint;
    ``out=None``: in memory). Returns the trainer's summary with ``model`` (the trained model)."""
    out = Path(out) if out is not None else None
    check_new_run(out, resume)
    if resume:
        exp = load_run_config(out)
    core = TrainerCore(LatentActionTask(exp, out), out, resume=resume, quiet=quiet)
    result = core.fit(stop_at=stop_at)
    result["model"] = core.inference_model().eval()
    return result
