"""The trainer: Hugging Face Accelerate (CPU, one GPU, multi-GPU / multi-node DDP, bf16 on GPU),
AdamW + warmup/cosine, gradient clipping, optional EMA, safetensors checkpoints with exact
resume, TensorBoard, a rich progress bar, validation loss and an injectable eval hook.

``Trainer.train_step`` is one optimization step; ``Trainer.fit`` the loop; :func:`main` the entry.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hivla.configs.presets import ExperimentConfig
from hivla.policies import VLAPolicy, VLAProcessor
from hivla.policies.base import ASSETS_DIR, resolve_checkpoint
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.policies.vla.processor_vla import FitData
from hivla.training import checkpoint as ckpt_io
from hivla.training.data import StepBatchSampler, collate, fit_arrays, split_indices
from hivla.training.logging import RunLogger
from hivla.training.optim import EMA, make_optimizer, warmup_cosine
from hivla.training.rollouts import EvalFn, SimRolloutEval
from hivla.utils.serialization import config_from_dict, config_to_dict

EXPERIMENT_FILE = "experiment.json"


def default_threads(processes: int) -> int:
    """Torch threads per process: the cores per process, at least 1. On the quiet 2-core reference
    machine two threads train the quick preset 1.55x faster than one; when other jobs share the
    cores, pass ``threads=1`` per job (two stalled OpenMP threads were 2-10x slower, BENCHMARKS.md
    ## Training). An ``OMP_NUM_THREADS`` set in the environment (torchrun sets 1) wins."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def resolve_policy_config(cfg: VLAConfig, fit: FitData) -> VLAConfig:
    """Fill embodiments, state_dim and action_dim from the data."""
    embodiments = tuple(sorted(fit.states))
    state_dim = max(int(s.shape[1]) for s in fit.states.values())
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
    if cfg.action_space == "universal":
        chunks = {"universal": np.concatenate(list(chunks.values()))}
    return FitData(states, chunks, reasoning)


def reasoning_strings(dataset: Any, indices: list[int]) -> tuple[str, ...]:
    """The distinct ``reasoning`` strings over ``indices`` (the dataset's column if it has one)."""
    if hasattr(dataset, "reasoning_column"):
        column = dataset.reasoning_column()
        return tuple(sorted({str(column[i]) for i in indices}))
    return tuple(sorted({str(dataset[int(i)].get("reasoning", "")) for i in indices} - {""}))


class Trainer:
    """Owns the accelerator, data, policy, optimizer and logs of one run directory ``out``."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        out: str | Path,
        dataset: Any = None,
        eval_fn: EvalFn | None = None,
        resume: bool = False,
        quiet: bool = False,
    ) -> None:
        self.cfg, self.out, self.quiet = cfg, Path(out), quiet
        self.dataset, self.eval_fn, self.resume = dataset, eval_fn, resume
        self.step = 0
        self.history: list[dict[str, float]] = []

    # -- setup ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        from hivla.utils.threads import limit_threads

        tcfg = self.cfg.train
        self.accelerator = acc = Accelerator(
            mixed_precision=tcfg.mixed_precision,
            cpu=not torch.cuda.is_available(),  # multi-process CPU runs use DDP over gloo
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=False)],
        )
        limit_threads(tcfg.threads or default_threads(acc.num_processes))
        torch.manual_seed(tcfg.seed)  # identical initialization on every process
        if self.dataset is None:
            from hivla.training.datasets import make_dataset

            self.dataset = make_dataset(self.cfg.data, self.cfg.policy)
        groups = self.dataset.episode_indices() if hasattr(self.dataset, "episode_indices") else None
        self.train_idx, self.val_idx = split_indices(
            len(self.dataset), self.cfg.data.val_fraction, tcfg.seed, groups
        )
        resume_from = resolve_checkpoint(self.out) if self.resume else None
        self.policy = self._build_policy(resume_from)
        self._maybe_cache_features()
        self.optimizer = make_optimizer(self.policy, tcfg.lr, tcfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda s: warmup_cosine(s, tcfg.warmup_steps, tcfg.steps, tcfg.min_lr_ratio),
        )
        self.ema = EMA(self.policy, tcfg.ema_decay) if tcfg.ema_decay > 0 else None
        self.model, self.optimizer = acc.prepare(self.policy, self.optimizer)
        if resume_from is not None:
            self._load_train_state(resume_from)
        else:
            torch.manual_seed(tcfg.seed + 1000 * acc.process_index)  # per-process noise streams
        self.loader = self._make_loader()
        if self.eval_fn is None and tcfg.eval_every > 0:
            self.eval_fn = SimRolloutEval(tcfg.eval)
        self.logger = RunLogger(self.out, tcfg.steps, enabled=acc.is_main_process, quiet=self.quiet)

    def _build_policy(self, resume_from: Path | None) -> VLAPolicy:
        if resume_from is not None:
            from safetensors.torch import load_file

            from hivla.policies.base import read_policy_meta

            _, pcfg = read_policy_meta(resume_from)
            processor = VLAProcessor.load(pcfg, resume_from / ASSETS_DIR)
            policy = VLAPolicy(pcfg, processor)
            policy.load_weights(load_file(str(resume_from / "model.safetensors")))
            return policy.to(self.accelerator.device)
        fit = fit_data(self.dataset, self.cfg.policy, self.train_idx)
        pcfg = resolve_policy_config(self.cfg.policy, fit)
        policy = VLAPolicy(pcfg, VLAProcessor.fit(pcfg, fit))
        if self.accelerator.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            exp = dataclasses.replace(self.cfg, policy=pcfg)
            (self.out / EXPERIMENT_FILE).write_text(json.dumps(config_to_dict(exp), indent=2))
        return policy.to(self.accelerator.device)

    def _maybe_cache_features(self) -> None:
        if not (self.cfg.data.cache_features and self.policy.vision_frozen):
            return
        from hivla.training.features import cached_dataset

        cache_dir = self.cfg.data.cache_dir or str(self.out / "feature_cache")
        if self.accelerator.is_main_process:
            self.dataset = cached_dataset(self.policy, self.dataset, cache_dir)
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            self.dataset = cached_dataset(self.policy, self.dataset, cache_dir)

    def _make_loader(self) -> torch.utils.data.DataLoader:
        acc, tcfg = self.accelerator, self.cfg.train
        sampler = StepBatchSampler(
            self.train_idx, tcfg.batch_size, tcfg.seed, self.step, acc.process_index, acc.num_processes
        )
        workers = self.cfg.data.num_workers
        return torch.utils.data.DataLoader(
            self.dataset, batch_sampler=sampler, num_workers=workers, collate_fn=collate,
            generator=torch.Generator().manual_seed(tcfg.seed),  # never draws from the global RNG
            persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
        )  # fmt: skip

    def _load_train_state(self, path: Path) -> None:
        acc = self.accelerator
        self.step, raw = ckpt_io.load_train_state(
            path, self.optimizer, self.scheduler, acc.process_index, self.ema
        )
        if raw is not None:
            self.policy.load_weights(raw)

    # -- steps ------------------------------------------------------------------------------------
    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Forward, backward, clip, AdamW and schedule steps, EMA update; returns the metrics."""
        acc, tcfg = self.accelerator, self.cfg.train
        self.model.train()
        with acc.autocast():
            loss, metrics = self.model(batch)
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        if tcfg.grad_clip > 0:
            metrics["grad_norm"] = float(acc.clip_grad_norm_(self.policy.parameters(), tcfg.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.policy, self.step)
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        return metrics

    def inference_policy(self) -> VLAPolicy:
        """The policy to evaluate and save: EMA weights when EMA is on."""
        if self.ema is None:
            return self.policy
        twin = copy.deepcopy(self.policy)
        twin.load_weights(self.ema.merged(self.policy.weights()))
        return twin

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss and loss metrics (``val/<name>``) over up to ``val_batches`` fixed validation
        batches (forked RNG, fixed seed)."""
        if not self.val_idx:
            return {}
        tcfg = self.cfg.train
        size = max(1, tcfg.batch_size // self.accelerator.num_processes)
        policy = self.inference_policy()
        policy.eval()
        rows = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(tcfg.seed + 12345)
            for k in range(min(tcfg.val_batches, -(-len(self.val_idx) // size))):
                batch = collate([self.dataset[i] for i in self.val_idx[k * size : (k + 1) * size]])
                loss, metrics = policy.compute_loss(batch)
                rows.append({**metrics, "loss": float(loss)})
        policy.train()
        return {f"val/{key}": sum(r[key] for r in rows) / len(rows) for key in rows[0]}

    def evaluate(self) -> dict[str, float]:
        policy = self.inference_policy()
        policy.eval()
        try:
            with torch.random.fork_rng(devices=[]):
                return self.eval_fn(policy, self.step)
        finally:
            policy.train()

    def save(self) -> Path:
        """Write a checkpoint of the current step (all processes must call it)."""
        acc = self.accelerator
        path = ckpt_io.checkpoint_dir(self.out, self.step)
        if acc.is_main_process:
            raw = self.policy.weights()
            weights = self.ema.merged(raw) if self.ema is not None else raw
            self.policy.save(path, weights=weights)
        acc.wait_for_everyone()
        raw = self.policy.weights() if self.ema is not None else None
        ckpt_io.save_train_state(
            path,
            self.step,
            self.optimizer,
            self.scheduler,
            acc.process_index,
            acc.is_main_process,
            raw,
            self.ema,
        )
        acc.wait_for_everyone()
        if acc.is_main_process:
            ckpt_io.mark_latest(self.out, path, self.cfg.train.keep_checkpoints)
        return path

    # -- loop -------------------------------------------------------------------------------------
    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train until ``train.steps`` (or ``stop_at``, for tests); return a summary."""
        self.setup()
        tcfg, acc = self.cfg.train, self.accelerator
        end = min(tcfg.steps, stop_at) if stop_at is not None else tcfg.steps
        global_batch = tcfg.batch_size
        batches = iter(self.loader)
        self.logger.start(self.step)
        tick, tick_step = time.perf_counter(), self.step
        last: dict[str, float] = {}
        while self.step < end:
            metrics = self.train_step(next(batches))
            self.step += 1
            self.history.append({"step": self.step, "loss": metrics["loss"]})
            if self._due(tcfg.log_every) or self.step == end:
                now = time.perf_counter()
                metrics["samples_per_s"] = global_batch * (self.step - tick_step) / max(now - tick, 1e-9)
                tick, tick_step = now, self.step
                last = metrics
                self.logger.log(self.step, {f"train/{k}": v for k, v in metrics.items()})
            if acc.is_main_process and self._due(tcfg.val_every):
                self.logger.log(self.step, self.validate())
            if acc.is_main_process and self.eval_fn is not None and self._due(tcfg.eval_every):
                self.logger.log(self.step, self.evaluate())
            if self._due(tcfg.save_every) or self.step == end:
                self.save()
            self.logger.advance(self.step, metrics)
        self.logger.close()
        acc.wait_for_everyone()
        return {
            "run": str(self.out),
            "step": self.step,
            "losses": [h["loss"] for h in self.history],
            "final_loss": last.get("loss"),
            "samples_per_s": last.get("samples_per_s"),
            "checkpoint": str(ckpt_io.checkpoint_dir(self.out, self.step)),
            "processes": acc.num_processes,
        }


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
    if not resume and (out / "checkpoints").exists():
        raise FileExistsError(
            f"{out} already holds checkpoints: pass --resume to continue, or choose a new --out"
        )
    return Trainer(cfg, out, dataset=dataset, eval_fn=eval_fn, resume=resume, quiet=quiet).fit(
        stop_at=stop_at
    )
