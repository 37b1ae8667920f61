"""``hivla train-world-model``: a world model (latent or JEPA) adapted to the trainer core
(``hivla.training.core``), which owns Accelerate, the optimizer and schedule, logs, checkpoints
with ``train_state/`` for an exact resume and validation.

:class:`WorldModelTask` builds (or resumes) the model and its episode windows; :func:`train` the entry.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.data.stats import FeatureStats, NormStats
from hivla.training.core import Split, TrainerCore, TrainingTask, check_new_run
from hivla.training.data import split_indices
from hivla.utils.serialization import config_from_dict, config_to_dict
from hivla.world_model.checkpoint import load_world_model, save_world_model
from hivla.world_model.config import WMExperimentConfig
from hivla.world_model.data import EpisodeArrays, WindowDataset, event_rates
from hivla.world_model.model import WORLD_MODELS, WorldModel

EXPERIMENT_FILE = "experiment.json"
MAX_POS_WEIGHT = 50.0


def load_or_collect(exp: WMExperimentConfig, quiet: bool = True) -> list[EpisodeArrays]:
    """The run's episodes: read ``data.path``; if it holds no dataset, record ``collect`` there
    first (fault-injecting expert); with no path, record in memory only."""
    from hivla.world_model.sources import collect_episodes, load_episodes, write_dataset

    path = Path(exp.data.path) if exp.data.path else None
    if path is not None and (path / "meta" / "info.json").is_file():
        return load_episodes(path, exp.model.action_key, exp.data.max_episodes)
    if path is not None and path.exists() and any(path.iterdir()):
        raise FileExistsError(
            f"{path} is not empty but holds no dataset (no meta/info.json); pass a dataset directory "
            "or an empty/new one to record into"
        )
    if not quiet:
        print(
            f"recording {exp.collect.episodes} episodes of {exp.collect.suite} (fault rate {exp.collect.fault_rate})"
        )
    episodes = collect_episodes(exp.collect)
    if path is None:
        return episodes
    write_dataset(episodes, path, exp.collect)
    return load_episodes(path, exp.model.action_key, exp.data.max_episodes)


def fit_stats(episodes: list[EpisodeArrays]) -> NormStats:
    """Action and state statistics over the episodes' transitions."""
    actions = np.concatenate([e.action[: e.transitions] for e in episodes])
    states = np.concatenate([e.state for e in episodes])
    return NormStats({"action": FeatureStats.of(actions), "state": FeatureStats.of(states)})


def event_pos_weight(episodes: list[EpisodeArrays]) -> np.ndarray:
    """BCE positive weights (1 - p) / p per event, within [1, 50]; 1 where an event never occurs."""
    p = event_rates(episodes)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(p > 0, (1.0 - p) / p, 1.0)
    return np.clip(np.nan_to_num(w, nan=1.0), 1.0, MAX_POS_WEIGHT).astype(np.float32)


class WorldModelTask(TrainingTask):
    """A world model (latent or JEPA) adapted to the trainer core; windows of whole episodes
    (episodes split into train and val)."""

    name = "world model"
    shuffle_val = True

    def __init__(
        self, exp: WMExperimentConfig, out: Path, episodes: list[EpisodeArrays] | None, quiet: bool
    ) -> None:
        super().__init__(exp.train)
        self.exp, self.out, self.episodes, self.quiet = exp, out, episodes, quiet

    def build(self, accelerator: Any, resume_from: Path | None) -> WorldModel:
        self.accelerator = accelerator
        episodes = self.episodes if self.episodes is not None else load_or_collect(self.exp, self.quiet)
        train_ep, val_ep = split_indices(len(episodes), self.exp.data.val_fraction, self.train.seed)
        self.train_episodes = [episodes[i] for i in train_ep]
        self.val_episodes = [episodes[i] for i in val_ep]
        model = self._model(resume_from).to(accelerator.device).train()
        self.train_split = self._windows(model, self.train_episodes)
        self.val_split = self._windows(model, self.val_episodes) if self.val_episodes else None
        return model

    def _windows(self, model: WorldModel, episodes: list[EpisodeArrays]) -> Split:
        mcfg = model.config
        sized = [e.resized(mcfg.image_size, mcfg.cameras) for e in episodes]
        dataset = WindowDataset(sized, mcfg.horizon, mcfg.outcome_horizon)
        return Split(dataset, range(len(dataset)))

    def _model(self, resume_from: Path | None) -> WorldModel:
        if resume_from is not None:
            return load_world_model(resume_from)
        stats = fit_stats(self.train_episodes)
        first = self.train_episodes[0]
        mcfg = dataclasses.replace(
            self.exp.model, state_dim=int(first.state.shape[1]), action_dim=int(first.action.shape[1])
        )
        model = WORLD_MODELS.get(mcfg.kind)(mcfg, stats, event_pos_weight(self.train_episodes))
        if self.accelerator.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            exp = dataclasses.replace(self.exp, model=mcfg)
            (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(exp), indent=2))
        return model

    def after_step(self, model: WorldModel) -> None:
        model.after_step()

    def save(self, model: WorldModel, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        save_world_model(model, path, weights=weights)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.exp.model.kind,
            "train_episodes": len(self.train_episodes),
            "val_episodes": len(self.val_episodes),
        }


class WorldModelTrainer(TrainerCore):
    """The trainer core over a :class:`WorldModelTask`: one run directory of ``hivla train-world-model``."""

    def __init__(
        self,
        exp: WMExperimentConfig,
        out: str | Path,
        episodes: list[EpisodeArrays] | None = None,
        resume: bool = False,
        quiet: bool = False,
    ) -> None:
        super().__init__(WorldModelTask(exp, Path(out), episodes, quiet), out, resume=resume, quiet=quiet)


def load_run_config(run: str | Path) -> WMExperimentConfig:
    """The experiment config a run was started with (model dims resolved)."""
    return config_from_dict(WMExperimentConfig, json.loads((Path(run) / EXPERIMENT_FILE).read_text()))


def train(
    exp: WMExperimentConfig,
    out: str | Path,
    episodes: list[EpisodeArrays] | None = None,
    resume: bool = False,
    quiet: bool = False,
    stop_at: int | None = None,
) -> dict[str, Any]:
    """Train ``exp`` into run directory ``out`` (``resume``: continue from its latest checkpoint)."""
    out = Path(out)
    check_new_run(out, resume)
    if resume:
        exp = load_run_config(out)
    return WorldModelTrainer(exp, out, episodes=episodes, resume=resume, quiet=quiet).fit(stop_at=stop_at)
