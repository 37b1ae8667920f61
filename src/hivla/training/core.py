"""The trainer core: one loop for every model hivla trains (VLA policy, world model, planner, monitor).

A model kind adapts to it with a :class:`TrainingTask`: build (or resume) the model and its
train/val data, save the inference checkpoint. The core owns the rest: Hugging Face Accelerate
(CPU, one GPU, multi-GPU / multi-node DDP, bf16 on GPU), thread limits, AdamW + LR schedule,
gradient clipping, optional EMA, progress and TensorBoard/JSONL logs, checkpoints with
``train_state/`` for an exact resume, validation and an injectable eval hook.

``TrainerCore.train_step`` is one optimization step; ``TrainerCore.fit`` the loop.
"""

from __future__ import annotations

import abc
import copy
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hivla.configs.presets import TrainConfig
from hivla.errors import HivlaError
from hivla.training import checkpoint as ckpt_io
from hivla.training.data import StepBatchSampler, collate
from hivla.training.logging import RunLogger
from hivla.training.optim import EMA, make_optimizer, make_scheduler
from hivla.training.rollouts import EvalFn


def default_threads(processes: int) -> int:
    """Torch threads per process: the cores per process, at least 1. On the quiet 2-core reference
    machine two threads train the quick preset 1.55x faster than one; when other jobs share the
    cores, pass ``threads=1`` per job (two stalled OpenMP threads were 2-10x slower, BENCHMARKS.md
    ## Training). An ``OMP_NUM_THREADS`` set in the environment (torchrun sets 1) wins."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, (os.cpu_count() or 1) // max(1, processes))


class DistributedSetupError(HivlaError, RuntimeError):
    """A multi-process setup the trainer does not support."""


def _check_distributed(acc: Any) -> None:
    """DDP (every process holds the whole model and optimizer) is what the checkpoints assume."""
    from accelerate.utils import DistributedType

    if acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        raise DistributedSetupError(
            f"the trainer saves whole-model checkpoints from the main process and does not gather "
            f"{acc.distributed_type.value} shards; launch with DDP instead (accelerate launch --multi_gpu, "
            "or torchrun): every hivla preset fits one GPU. See docs/scaling.md"
        )


def check_new_run(out: str | Path | None, resume: bool) -> None:
    """Refuse to start a new run in a directory that already holds checkpoints (FileExistsError)."""
    if out is not None and not resume and (Path(out) / "checkpoints").exists():
        raise FileExistsError(
            f"{out} already holds checkpoints: pass --resume to continue, or choose a new --out"
        )


@dataclass(frozen=True)
class Split:
    """Samples ``indices`` of ``dataset`` (a map-style dataset of dict samples)."""

    dataset: Any
    indices: Sequence[int]


class TrainingTask(abc.ABC):
    """One model kind adapted to the core.

    The model :meth:`build` returns is an ``nn.Module`` whose ``forward(batch)`` returns
    ``(loss, metrics)`` (``compute_loss``), so that DDP wraps it. ``build`` also sets
    ``train_split`` and ``val_split`` (``val_split`` may stay None).
    """

    name = "train"  # the progress label
    num_workers = 0  # DataLoader worker processes
    shuffle_val = False  # validate on a seeded permutation of val_split (else its first samples)
    train_split: Split
    val_split: Split | None = None

    def __init__(self, train: TrainConfig) -> None:
        self.train = train

    @abc.abstractmethod
    def build(self, accelerator: Any, resume_from: Path | None) -> nn.Module:
        """The model on ``accelerator.device`` in train mode: new, or loaded from ``resume_from``
        (a checkpoint this task saved). Sets the splits; writes run files on the main process."""

    @abc.abstractmethod
    def save(self, model: nn.Module, path: Path, weights: dict[str, torch.Tensor] | None) -> None:
        """Write the inference checkpoint into ``path``; ``weights`` (EMA) replace the live ones."""

    def weights(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The state dict that checkpoints store."""
        return {k: v.detach().cpu() for k, v in model.state_dict().items()}

    def load_weights(self, model: nn.Module, weights: dict[str, torch.Tensor]) -> None:
        model.load_state_dict(weights)

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return collate(samples)

    def after_step(self, model: nn.Module) -> None:  # noqa: B027 (an optional hook)
        """Called after every optimizer step (e.g. a JEPA target-encoder update)."""

    def summary(self) -> dict[str, Any]:
        """Extra fields for the run summary."""
        return {}


class TrainerCore:
    """Owns the accelerator, model, optimizer and logs of one run directory ``out`` (None: train
    in memory, no checkpoints or log files)."""

    def __init__(
        self,
        task: TrainingTask,
        out: str | Path | None,
        eval_fn: EvalFn | None = None,
        resume: bool = False,
        quiet: bool = False,
    ) -> None:
        if resume and out is None:
            raise ValueError("resume=True needs the run directory `out` to resume from")
        self.task, self.out, self.eval_fn = task, Path(out) if out is not None else None, eval_fn
        self.resume, self.quiet = resume, quiet
        self.step = 0
        self.history: list[dict[str, float]] = []

    @property
    def train_cfg(self) -> TrainConfig:
        return self.task.train

    # -- setup ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        from hivla.utils.threads import limit_threads

        tcfg = self.train_cfg
        self.accelerator = acc = Accelerator(
            mixed_precision=tcfg.mixed_precision,
            cpu=not torch.cuda.is_available(),  # multi-process CPU runs use DDP over gloo
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=False)],
        )
        _check_distributed(acc)
        limit_threads(tcfg.threads or default_threads(acc.num_processes))
        torch.manual_seed(tcfg.seed)  # identical initialization on every process
        resume_from = ckpt_io.latest_checkpoint(self.out) if self.resume else None
        self.model = self.task.build(acc, resume_from)
        self.optimizer = make_optimizer(self.model, tcfg.lr, tcfg.weight_decay, tcfg.betas)
        self.scheduler = make_scheduler(
            self.optimizer, tcfg.schedule, tcfg.warmup_steps, tcfg.steps, tcfg.min_lr_ratio
        )
        self.ema = EMA(self.model, tcfg.ema_decay) if tcfg.ema_decay > 0 else None
        self.wrapped, self.optimizer = acc.prepare(self.model, self.optimizer)
        if resume_from is not None:
            self._load_train_state(resume_from)
        else:
            torch.manual_seed(tcfg.seed + 1000 * acc.process_index)  # per-process noise streams
        self.loader = self._make_loader()
        self.logger = RunLogger(
            self.out, tcfg.steps, enabled=acc.is_main_process, quiet=self.quiet, name=self.task.name,
            batch_size=tcfg.batch_size,
        )  # fmt: skip

    def _make_loader(self) -> torch.utils.data.DataLoader:
        acc, tcfg, split = self.accelerator, self.train_cfg, self.task.train_split
        sampler = StepBatchSampler(
            split.indices, tcfg.batch_size, tcfg.seed, self.step, acc.process_index, acc.num_processes
        )
        workers = self.task.num_workers
        return torch.utils.data.DataLoader(
            split.dataset, batch_sampler=sampler, num_workers=workers, collate_fn=self.task.collate,
            generator=torch.Generator().manual_seed(tcfg.seed),  # never draws from the global RNG
            persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
        )  # fmt: skip

    def _load_train_state(self, path: Path) -> None:
        acc = self.accelerator
        self.step, raw, exact = ckpt_io.load_train_state(
            path, self.optimizer, self.scheduler, acc.process_index, self.ema, world=acc.num_processes
        )
        if raw is not None:
            self.task.load_weights(self.model, raw)
        if not exact:  # another number of processes: same batches and optimizer, new noise streams
            seed = self.train_cfg.seed + 1000 * acc.process_index + self.step
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
            if acc.is_main_process and not self.quiet:
                print(
                    f"resuming {path.name} (written by {ckpt_io.saved_processes(path)} processes) on "
                    f"{acc.num_processes}: same global batches and optimizer state, new RNG streams"
                )

    # -- steps ------------------------------------------------------------------------------------
    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Forward, backward, clip, AdamW and schedule steps, EMA and task updates; returns the metrics."""
        acc, tcfg = self.accelerator, self.train_cfg
        self.wrapped.train()
        with acc.autocast():
            loss, metrics = self.wrapped(batch)
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        if tcfg.grad_clip > 0:
            metrics["grad_norm"] = float(acc.clip_grad_norm_(self.model.parameters(), tcfg.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model, self.step)
        self.task.after_step(self.model)
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        return metrics

    def inference_model(self) -> nn.Module:
        """The model to validate, evaluate and save: EMA weights when EMA is on."""
        if self.ema is None:
            return self.model
        twin = copy.deepcopy(self.model)
        self.task.load_weights(twin, self.ema.merged(self.task.weights(self.model)))
        return twin

    def _val_batches(self) -> list[list[int]]:
        split, tcfg = self.task.val_split, self.train_cfg
        order = list(split.indices)
        if self.task.shuffle_val:
            order = [order[i] for i in np.random.default_rng(tcfg.seed + 12345).permutation(len(order))]
        size = max(1, tcfg.batch_size // self.accelerator.num_processes)
        count = min(tcfg.val_batches, -(-len(order) // size))
        return [order[k * size : (k + 1) * size] for k in range(count)]

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss and loss metrics (``val/<name>``) over up to ``val_batches`` fixed validation
        batches (forked RNG, fixed seed)."""
        split = self.task.val_split
        if split is None or not len(split.indices):
            return {}
        model = self.inference_model()
        model.eval()
        rows = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.train_cfg.seed + 12345)
            for idx in self._val_batches():
                loss, metrics = model(self.task.collate([split.dataset[int(i)] for i in idx]))
                rows.append({**metrics, "loss": float(loss)})
        model.train()
        return {f"val/{key}": sum(r[key] for r in rows) / len(rows) for key in rows[0]}

    def evaluate(self) -> dict[str, float]:
        model = self.inference_model()
        model.eval()
        try:
            with torch.random.fork_rng(devices=[]):
                return self.eval_fn(model, self.step)
        finally:
            model.train()

    def save(self) -> Path:
        """Write a checkpoint of the current step (all processes must call it)."""
        acc, path = self.accelerator, ckpt_io.checkpoint_dir(self.out, self.step)
        raw = self.task.weights(self.model) if self.ema is not None else None
        if acc.is_main_process:
            self.task.save(self.model, path, self.ema.merged(raw) if self.ema is not None else None)
        acc.wait_for_everyone()
        ckpt_io.save_train_state(
            path, self.step, self.optimizer, self.scheduler,
            acc.process_index, acc.is_main_process, raw, self.ema, acc.num_processes,
        )  # fmt: skip
        acc.wait_for_everyone()
        if acc.is_main_process:
            ckpt_io.mark_latest(self.out, path, self.train_cfg.keep_checkpoints)
        return path

    # -- loop -------------------------------------------------------------------------------------
    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def _after_step(self, metrics: dict[str, float], end: int) -> dict[str, float]:
        """Validation, eval hook and checkpoint of the step just taken; returns the validation metrics."""
        main, tcfg, val = self.accelerator.is_main_process, self.train_cfg, {}
        if main and (self._due(tcfg.val_every) or self.step == end):
            val = self.validate()
            self.logger.log(self.step, val)
        if main and self.eval_fn is not None and self._due(tcfg.eval_every):
            self.logger.log(self.step, self.evaluate())
        if self.out is not None and (self._due(tcfg.save_every) or self.step == end):
            self.save()
        self.logger.advance(self.step, metrics)
        return val

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train until ``steps`` (or ``stop_at``, for tests); return a summary."""
        self.setup()
        tcfg, acc = self.train_cfg, self.accelerator
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
                tick, tick_step, last = now, self.step, metrics
                self.logger.log(self.step, {f"train/{k}": v for k, v in metrics.items()})
            val = self._after_step(metrics, end) or val
        self.logger.close()
        acc.wait_for_everyone()
        return self._summary(last, val)

    def _summary(self, last: dict[str, float], val: dict[str, float]) -> dict[str, Any]:
        ckpt = ckpt_io.checkpoint_dir(self.out, self.step) if self.out is not None else None
        return {
            "run": str(self.out) if self.out is not None else None,
            "step": self.step,
            "losses": [h["loss"] for h in self.history],
            "final_loss": last.get("loss"),
            "samples_per_s": last.get("samples_per_s"),
            "val": val,
            "checkpoint": str(ckpt) if ckpt is not None else None,
            "processes": self.accelerator.num_processes,
            **self.task.summary(),
        }
