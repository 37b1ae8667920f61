"""``hivla train``: the VLA policy adapted to the trainer core (``hivla.training.core``).

:class:`VLATask` builds (or resumes) the policy from an ``ExperimentConfig`` and its dataset;
:class:`Trainer` is the core over it; :func:`main` the entry.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.checkpoints import load_weights
from hivla.configs.presets import ExperimentConfig, check_augmentation_cache
from hivla.policies import VLAPolicy, VLAProcessor
from hivla.policies.base import ASSETS_DIR, WEIGHTS_FILE
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.policies.vla.processor_vla import SHARED_STATE_DIM, FitData
from hivla.training.core import Split, TrainerCore, TrainingTask, check_new_run, default_threads
from hivla.training.data import fit_arrays, split_indices
from hivla.training.datasets import check_universal_widths
from hivla.training.rollouts import EvalFn, SimRolloutEval
from hivla.utils.serialization import config_from_dict, config_to_dict

__all__ = ["Trainer", "VLATask", "default_threads", "load_experiment", "main"]
EXPERIMENT_FILE = "experiment.json"


def resolve_policy_config(cfg: VLAConfig, fit: FitData) -> VLAConfig:
    """Fill embodiments, state_dim and action_dim from the data."""
    embodiments = tuple(sorted(fit.states))
    state_dim = max(int(s.shape[1]) for s in fit.states.values())
    if cfg.proprio == "shared":
        state_dim = SHARED_STATE_DIM
    action_dims = {int(c.shape[2]) for c in fit.chunks.values()}
    if len(action_dims) != 1:
        raise ValueError(
            f"action sizes differ between embodiments {embodiments}: {sorted(action_dims)}; "
            "train with policy.action_space='universal'"
        )
    horizons = {int(c.shape[1]) for c in fit.chunks.values()}
    if horizons != {cfg.horizon}:
        raise ValueError(
            f"the data's action chunks have H={sorted(horizons)}, the policy horizon is {cfg.horizon}"
        )
    return dataclasses.replace(
        cfg, embodiments=embodiments, state_dim=state_dim, action_dim=action_dims.pop()
    )


def fit_data(dataset: Any, cfg: VLAConfig, indices: list[int]) -> FitData:
    """States per embodiment and action chunks per statistics key (embodiment, or "universal")."""
    states, chunks = fit_arrays(dataset, cfg.action_key, indices)
    reasoning = reasoning_strings(dataset, indices) if cfg.reasoning.enabled else ()
    widths: dict[str, int] = {}
    if cfg.action_space == "universal":
        widths = {e: int(c.shape[-1]) for e, c in chunks.items()}
        if check_universal_widths(widths, "embodiments", cfg.head.kind):
            chunks = {e: pad_dims(c, max(widths.values())) for e, c in chunks.items()}
        else:
            widths = {}
        chunks = {"universal": np.concatenate(list(chunks.values()))}
    return FitData(states, chunks, reasoning, action_widths=widths)


def pad_dims(chunks: np.ndarray, width: int) -> np.ndarray:
    """float[N, H, A] -> float[N, H, width], the added dimensions NaN (left out of the statistics)."""
    out = np.full((*chunks.shape[:-1], width), np.nan, np.float32)
    out[..., : chunks.shape[-1]] = chunks
    return out


def reasoning_strings(dataset: Any, indices: list[int]) -> tuple[str, ...]:
    """The distinct ``reasoning`` strings over ``indices`` (the dataset's column if it has one)."""
    if hasattr(dataset, "reasoning_column"):
        column = dataset.reasoning_column()
        return tuple(sorted({str(column[i]) for i in indices}))
    return tuple(sorted({str(dataset[int(i)].get("reasoning", "")) for i in indices} - {""}))


class VLATask(TrainingTask):
    """The VLA policy (and any policy built from an ``ExperimentConfig``) adapted to the core."""

    def __init__(self, cfg: ExperimentConfig, out: Path, dataset: Any = None) -> None:
        super().__init__(cfg.train)
        self.cfg, self.out, self.dataset = cfg, out, dataset

    @property
    def num_workers(self) -> int:
        return self.cfg.data.num_workers

    def build(self, accelerator: Any, resume_from: Path | None) -> VLAPolicy:
        self.accelerator = accelerator
        if self.dataset is None:
            from hivla.training.datasets import make_dataset

            self.dataset = make_dataset(self.cfg.data, self.cfg.policy)
        groups = self.dataset.episode_indices() if hasattr(self.dataset, "episode_indices") else None
        train_idx, val_idx = split_indices(
            len(self.dataset), self.cfg.data.val_fraction, self.train.seed, groups
        )
        policy = self._policy(resume_from, train_idx).to(accelerator.device)
        self._maybe_cache_features(policy)
        self.train_split, self.val_split = Split(self.dataset, train_idx), Split(self.dataset, val_idx)
        return policy

    def _policy(self, resume_from: Path | None, train_idx: list[int]) -> VLAPolicy:
        if resume_from is not None:
            from hivla.policies.base import read_policy_meta

            _, pcfg = read_policy_meta(resume_from)
            policy = VLAPolicy(pcfg, VLAProcessor.load(pcfg, resume_from / ASSETS_DIR))
            policy.load_weights(load_weights(resume_from / WEIGHTS_FILE))
            return policy
        if self.cfg.train.init:
            return self._initial_policy(train_idx)
        fit = fit_data(self.dataset, self.cfg.policy, train_idx)
        pcfg = resolve_policy_config(self.cfg.policy, fit)
        if self.accelerator.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            exp = dataclasses.replace(self.cfg, policy=pcfg)
            (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(exp), indent=2))
        policy = VLAPolicy(pcfg, VLAProcessor.fit(pcfg, fit))
        if self.cfg.train.init_latent:
            from hivla.policies.vla.latent_init import init_from_latent

            self.latent_init = init_from_latent(policy, self.cfg.train.init_latent)
        return policy

    def _initial_policy(self, train_idx: list[int]) -> VLAPolicy:
        """The policy of ``train.init`` (weights, configuration, normalization), to fine-tune; the
        run's ``experiment.json`` records its configuration in place of the preset's."""
        from hivla.policies.base import load_policy

        policy = load_policy(self.cfg.train.init)
        if not isinstance(policy, VLAPolicy):
            raise TypeError(
                f"train.init={self.cfg.train.init!r} is a {type(policy).__name__}, not a VLA policy"
            )
        states, _ = fit_arrays(self.dataset, policy.config.action_key, train_idx)
        missing = sorted(set(states) - set(policy.embodiments))
        if missing:
            raise ValueError(
                f"train.init={self.cfg.train.init!r} was trained for embodiments {list(policy.embodiments)}, "
                f"but the data also holds {missing}; fine-tune on its embodiments or train a new policy"
            )
        if self.accelerator.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            exp = dataclasses.replace(self.cfg, policy=policy.config)
            (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(exp), indent=2))
        return policy.train()

    def _maybe_cache_features(self, policy: VLAPolicy) -> None:
        """Cache frozen-encoder features (``data.cache_features``); refuses, with
        ``AugmentationCacheError``, augmentations of the policy (``train.init``'s own, too) that
        cached features would silently drop."""
        if not (self.cfg.data.cache_features and policy.vision_frozen):
            return
        check_augmentation_cache(policy.config, self.cfg.data)
        from hivla.training.features import cached_dataset

        acc = self.accelerator
        cache_dir = self.cfg.data.cache_dir or str(self.out / "feature_cache")
        if acc.is_main_process:
            self.dataset = cached_dataset(policy, self.dataset, cache_dir)
        acc.wait_for_everyone()
        if not acc.is_main_process:
            self.dataset = cached_dataset(policy, self.dataset, cache_dir)

    def weights(self, model: VLAPolicy) -> dict[str, torch.Tensor]:
        return model.weights()

    def load_weights(self, model: VLAPolicy, weights: dict[str, torch.Tensor]) -> None:
        model.load_weights(weights)

    def save(self, model: VLAPolicy, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        model.save(path, weights=weights)

    def summary(self) -> dict[str, Any]:
        return dict(getattr(self, "latent_init", {}))


class Trainer(TrainerCore):
    """The trainer core over a :class:`VLATask`: one run directory ``out`` of ``hivla train``."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        out: str | Path,
        dataset: Any = None,
        eval_fn: EvalFn | None = None,
        resume: bool = False,
        quiet: bool = False,
    ) -> None:
        if eval_fn is None and cfg.train.eval_every > 0:
            eval_fn = SimRolloutEval(cfg.train.eval)
        super().__init__(VLATask(cfg, Path(out), dataset), out, eval_fn=eval_fn, resume=resume, quiet=quiet)

    @property
    def cfg(self) -> ExperimentConfig:
        return self.task.cfg

    @cfg.setter
    def cfg(self, cfg: ExperimentConfig) -> None:
        self.task.cfg, self.task.train = cfg, cfg.train

    @property
    def policy(self) -> VLAPolicy:
        return self.model

    @property
    def dataset(self) -> Any:
        return self.task.dataset

    def inference_policy(self) -> VLAPolicy:
        """The policy to evaluate and save: EMA weights when EMA is on."""
        return self.inference_model()


def load_experiment(run: str | Path) -> ExperimentConfig:
    """The experiment config a run was started with (policy fields resolved)."""
    return config_from_dict(ExperimentConfig, json.loads((Path(run) / EXPERIMENT_FILE).read_text()))


def main(
    cfg: ExperimentConfig,
    out: str | Path,
    resume: bool = False,
    dataset: Any = None,
    eval_fn: EvalFn | None = None,
    quiet: bool = False,
    stop_at: int | None = None,
) -> dict[str, Any]:
    """Train ``cfg`` into run directory ``out`` (``resume``: continue from its latest checkpoint)."""
    out = Path(out)
    check_new_run(out, resume)
    return Trainer(cfg, out, dataset=dataset, eval_fn=eval_fn, resume=resume, quiet=quiet).fit(
        stop_at=stop_at
    )
