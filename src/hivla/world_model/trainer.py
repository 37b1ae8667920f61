"""Train a world model (latent or JEPA) with the pieces of the policy trainer (``hivla.training``):
Accelerate, AdamW + warmup/cosine, the resumable step-indexed batch order, TensorBoard/JSONL
logs, and safetensors checkpoints with ``train_state/`` for an exact resume.

``WorldModelTrainer.train_step`` is one optimization step; ``fit`` the loop; :func:`train` the entry.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.data.stats import FeatureStats, NormStats
from hivla.training import checkpoint as ckpt_io
from hivla.training.data import StepBatchSampler, collate, split_indices
from hivla.training.logging import RunLogger
from hivla.training.optim import make_optimizer, warmup_cosine
from hivla.utils.serialization import config_from_dict, config_to_dict
from hivla.world_model.checkpoint import load_world_model, resolve_world_model, save_world_model
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


class WorldModelTrainer:
    """Owns the accelerator, data, model, optimizer and logs of one run directory ``out``."""

    def __init__(
        self,
        exp: WMExperimentConfig,
        out: str | Path,
        episodes: list[EpisodeArrays] | None = None,
        resume: bool = False,
        quiet: bool = False,
    ) -> None:
        self.exp, self.out, self.episodes, self.resume, self.quiet = exp, Path(out), episodes, resume, quiet
        self.step = 0
        self.history: list[dict[str, float]] = []

    # -- setup ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from accelerate import Accelerator

        from hivla.training.trainer import default_threads
        from hivla.utils.threads import limit_threads

        tcfg = self.exp.train
        self.accelerator = acc = Accelerator(
            mixed_precision=tcfg.mixed_precision, cpu=not torch.cuda.is_available()
        )
        limit_threads(tcfg.threads or default_threads(acc.num_processes))
        torch.manual_seed(tcfg.seed)
        episodes = self.episodes if self.episodes is not None else load_or_collect(self.exp, self.quiet)
        train_ep, val_ep = split_indices(len(episodes), self.exp.data.val_fraction, tcfg.seed)
        self.train_episodes = [episodes[i] for i in train_ep]
        self.val_episodes = [episodes[i] for i in val_ep]
        resume_from = resolve_world_model(self.out) if self.resume else None
        self.model: WorldModel = self._build_model(resume_from)
        mcfg = self.model.config
        sized = [e.resized(mcfg.image_size, mcfg.cameras) for e in self.train_episodes]
        self.dataset = WindowDataset(sized, mcfg.horizon, mcfg.outcome_horizon)
        self.val_dataset = None
        if self.val_episodes:
            val_sized = [e.resized(mcfg.image_size, mcfg.cameras) for e in self.val_episodes]
            self.val_dataset = WindowDataset(val_sized, mcfg.horizon, mcfg.outcome_horizon)
        self.optimizer = make_optimizer(self.model, tcfg.lr, tcfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: warmup_cosine(s, tcfg.warmup_steps, tcfg.steps, tcfg.min_lr_ratio)
        )
        self.wrapped, self.optimizer = acc.prepare(self.model, self.optimizer)
        if resume_from is not None:
            self.step, _ = ckpt_io.load_train_state(
                resume_from, self.optimizer, self.scheduler, acc.process_index
            )
        sampler = StepBatchSampler(
            range(len(self.dataset)),
            tcfg.batch_size,
            tcfg.seed,
            self.step,
            acc.process_index,
            acc.num_processes,
        )
        self.loader = torch.utils.data.DataLoader(self.dataset, batch_sampler=sampler, collate_fn=collate)
        self.logger = RunLogger(self.out, tcfg.steps, enabled=acc.is_main_process, quiet=self.quiet)

    def _build_model(self, resume_from: Path | None) -> WorldModel:
        device = self.accelerator.device
        if resume_from is not None:
            model = load_world_model(resume_from, device)
            return model.train()
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
        return model.to(device).train()

    # -- steps ------------------------------------------------------------------------------------
    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Forward, backward, clip, AdamW and schedule steps, then the model's ``after_step`` (EMA)."""
        acc, tcfg = self.accelerator, self.exp.train
        self.model.train()
        with acc.autocast():
            loss, metrics = self.wrapped(batch)
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        if tcfg.grad_clip > 0:
            metrics["grad_norm"] = float(acc.clip_grad_norm_(self.model.parameters(), tcfg.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        self.model.after_step()
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        return metrics

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss terms over up to ``val_batches`` fixed validation batches."""
        if self.val_dataset is None:
            return {}
        tcfg = self.exp.train
        self.model.eval()
        rng = np.random.default_rng(tcfg.seed + 12345)
        order = rng.permutation(len(self.val_dataset))
        sums: dict[str, float] = {}
        n = 0
        for k in range(min(tcfg.val_batches, -(-len(order) // tcfg.batch_size))):
            idx = order[k * tcfg.batch_size : (k + 1) * tcfg.batch_size]
            _, metrics = self.model.compute_loss(collate([self.val_dataset[int(i)] for i in idx]))
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
            n += 1
        self.model.train()
        return {f"val/{k}": v / n for k, v in sums.items()}

    def save(self) -> Path:
        acc = self.accelerator
        path = ckpt_io.checkpoint_dir(self.out, self.step)
        if acc.is_main_process:
            save_world_model(self.model, path)
        acc.wait_for_everyone()
        ckpt_io.save_train_state(
            path, self.step, self.optimizer, self.scheduler, acc.process_index, acc.is_main_process
        )
        acc.wait_for_everyone()
        if acc.is_main_process:
            ckpt_io.mark_latest(self.out, path, self.exp.train.keep_checkpoints)
        return path

    # -- loop -------------------------------------------------------------------------------------
    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train until ``train.steps`` (or ``stop_at``, for tests); return a summary."""
        self.setup()
        tcfg, acc = self.exp.train, self.accelerator
        end = min(tcfg.steps, stop_at) if stop_at is not None else tcfg.steps
        batches = iter(self.loader)
        self.logger.start(self.step)
        tick, tick_step = time.perf_counter(), self.step
        last: dict[str, float] = {}
        val: dict[str, float] = {}
        while self.step < end:
            metrics = self.train_step(next(batches))
            self.step += 1
            self.history.append({"step": self.step, "loss": metrics["loss"]})
            if self._due(tcfg.log_every) or self.step == end:
                now = time.perf_counter()
                metrics["samples_per_s"] = tcfg.batch_size * (self.step - tick_step) / max(now - tick, 1e-9)
                tick, tick_step = now, self.step
                last = metrics
                self.logger.log(self.step, {f"train/{k}": v for k, v in metrics.items()})
            if acc.is_main_process and (self._due(tcfg.val_every) or self.step == end):
                val = self.validate()
                self.logger.log(self.step, val)
            if self._due(tcfg.save_every) or self.step == end:
                self.save()
            self.logger.advance(self.step, metrics)
        self.logger.close()
        return {
            "run": str(self.out),
            "kind": self.model.kind,
            "step": self.step,
            "losses": [h["loss"] for h in self.history],
            "final_loss": last.get("loss"),
            "samples_per_s": last.get("samples_per_s"),
            "val": val,
            "train_episodes": len(self.train_episodes),
            "val_episodes": len(self.val_episodes),
            "checkpoint": str(ckpt_io.checkpoint_dir(self.out, self.step)),
        }


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
    if not resume and (out / "checkpoints").exists():
        raise FileExistsError(
            f"{out} already holds checkpoints: pass --resume to continue, or choose a new --out"
        )
    if resume:
        exp = load_run_config(out)
    return WorldModelTrainer(exp, out, episodes=episodes, resume=resume, quiet=quiet).fit(stop_at=stop_at)
