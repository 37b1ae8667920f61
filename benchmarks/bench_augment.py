"""Cost of the training augmentations per sample, next to the processor's own cost without them.

On a batch shaped like the ``standard`` preset's (64 px, cameras front + wrist, batch 32; SYNTHETIC
frames from ``SyntheticVLADataset`` with simulator subtask texts), measured in one run: the
processor's ``prepare_batch`` in eval mode (no augmentation: the reference), each augmentation step
alone on the processed images or texts, and ``prepare_batch`` in training mode with all of them on;
for scale, one training step of the ``standard`` policy on the same batch.
Times are medians over ``--repeats`` calls (the rows timed in turn, round after round), in microseconds per sample, with torch threads set
explicitly (``--threads``). The ``standard`` policy's localization labels are switched off
(``localize=0``): they do not depend on the augmentations' cost.

    python benchmarks/bench_augment.py --threads 1
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import tyro

from hivla.configs import get_preset
from hivla.policies import VLAProcessor
from hivla.policies.vla.processor_vla import random_shift
from hivla.sim.episode import SamplingOptions, sample_episode
from hivla.training.data import SyntheticSpec, SyntheticVLADataset, collate
from hivla.training.trainer import fit_data, resolve_policy_config
from hivla.transforms.image import drop_cameras, jitter_colour
from hivla.transforms.paraphrase import paraphrase_texts


@dataclass(frozen=True)
class Config:
    """Time each training augmentation on a standard-preset-shaped batch."""

    threads: int = 1  # torch threads (set explicitly: the figures depend on it)
    batch: int = 32
    repeats: int = 50  # calls timed per row; the median is reported
    augment_shift: int = 4  # the standard preset's
    augment_colour: float = 0.3
    camera_dropout: float = 0.1
    paraphrase: float = 0.5
    step_repeats: int = 5  # training steps timed for scale (0 skips)


def median_us(rows: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each ``fn()`` in microseconds, after two warm-up calls. The rows are timed
    in turn, round after round, so load from other jobs on a shared machine falls on all of them."""
    times: dict[str, list[float]] = {name: [] for name in rows}
    for fn in rows.values():
        fn(), fn()
    for _ in range(repeats):
        for name, fn in rows.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) * 1e6 for name, t in times.items()}


def setup(cfg: Config) -> tuple[VLAProcessor, dict]:
    """The standard preset's processor (with ``cfg``'s augmentations) and one batch for it."""
    exp = get_preset("standard")
    policy = dataclasses.replace(
        exp.policy, localize=0.0, augment_shift=cfg.augment_shift, augment_colour=cfg.augment_colour,
        camera_dropout=cfg.camera_dropout, paraphrase=cfg.paraphrase,
    )  # fmt: skip
    spec = SyntheticSpec(
        size=cfg.batch, image_size=policy.image_size, horizon=policy.horizon, cameras=policy.cameras
    )
    data = SyntheticVLADataset(spec)
    fit = fit_data(data, policy, list(range(len(data))))
    policy = resolve_policy_config(policy, fit)
    batch = collate([data[i] for i in range(cfg.batch)])
    subtasks = [
        s.text for seed in range(cfg.batch) for s in sample_episode(seed, SamplingOptions((3,))).subtasks
    ]
    batch["subtask"] = subtasks[: cfg.batch]
    return VLAProcessor.fit(policy, fit), batch


def main(cfg: Config) -> None:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(0)
    processor, batch = setup(cfg)
    images = processor.prepare_batch(batch)["images"]  # (B, C, 3, s, s)
    texts = processor.batch_texts(batch)
    rng = np.random.default_rng(0)
    rows = {
        "processor, no augmentation (reference)": lambda: processor.prepare_batch(batch),
        f"random shift ({cfg.augment_shift} px)": lambda: random_shift(images, cfg.augment_shift),
        f"colour jitter ({cfg.augment_colour})": lambda: jitter_colour(images, cfg.augment_colour),
        f"camera dropout ({cfg.camera_dropout})": lambda: drop_cameras(images, cfg.camera_dropout),
        f"paraphrase ({cfg.paraphrase})": lambda: paraphrase_texts(texts, cfg.paraphrase, rng),
        "processor, all augmentations (training)": lambda: processor.prepare_batch(batch, train=True),
    }
    cost = {name: us / cfg.batch for name, us in median_us(rows, cfg.repeats).items()}
    reference = cost["processor, no augmentation (reference)"]
    print(
        f"batch {cfg.batch} x {len(processor.config.cameras)} cameras x {processor.config.image_size} px "
        f"(standard preset, SYNTHETIC frames), torch threads {cfg.threads}, median of {cfg.repeats} calls"
    )
    print(f"{'step':<42} {'us/sample':>10} {'x reference':>12}")
    for name, us in cost.items():
        print(f"{name:<42} {us:>10.1f} {us / reference:>12.2f}")
    extra = cost["processor, all augmentations (training)"] - reference
    print(f"{'all augmentations, added to the processor':<42} {extra:>10.1f} {extra / reference:>12.2f}")
    if cfg.step_repeats:
        step = training_step_us(processor, batch, cfg.step_repeats) / cfg.batch
        print(
            f"for scale: one standard-preset training step (loss + backward, augmentations on) costs "
            f"{step:.0f} us/sample; all augmentations are {extra / step:.1%} of it"
        )


def training_step_us(processor: VLAProcessor, batch: dict, repeats: int) -> float:
    """Median time of ``compute_loss`` + ``backward`` of the standard policy on ``batch`` (us)."""
    from hivla.policies import VLAPolicy

    policy = VLAPolicy(processor.config, processor).train()

    def step() -> None:
        policy.zero_grad(set_to_none=True)
        policy.compute_loss(batch)[0].backward()

    return median_us({"step": step}, repeats)["step"]


if __name__ == "__main__":
    main(tyro.cli(Config))
