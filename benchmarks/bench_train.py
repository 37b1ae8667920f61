"""Training speed per preset (samples/s of full optimization steps) next to the data loader's rate.

    python benchmarks/bench_train.py                          # collects 30 episodes at 64 px first
    python benchmarks/bench_train.py --data DIR --threads 1 2 --presets debug quick default

For each preset (and thread count) the trainer is set up on the dataset exactly as ``hivla train``
does, two warm-up steps run, then ``--steps`` timed ``train_step`` calls (batches fetched outside
the timer). The loader rate is the same DataLoader (preset batch size and workers) iterated alone.
``quick+frozen`` is the quick preset with a frozen pretrained EfficientNet-Lite0 and cached features
(the cache build time is reported separately).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import torch

from hivla.configs import get_preset
from hivla.models import VisionConfig
from hivla.training import Trainer


def variant(name: str, data: str, threads: int):
    base = "quick" if name == "quick+frozen" else name
    cfg = get_preset(base)
    train = dataclasses.replace(cfg.train, threads=threads, eval_every=0, val_every=0, save_every=0)
    policy = cfg.policy
    if name == "quick+frozen":
        policy = dataclasses.replace(
            policy, vision=VisionConfig(kind="efficientnet_lite0", freeze=True, grid=2)
        )
    if not torch.cuda.is_available() and train.mixed_precision != "no":
        train = dataclasses.replace(train, mixed_precision="no")
    return dataclasses.replace(cfg, policy=policy, train=train, data=dataclasses.replace(cfg.data, path=data))


def measure(name: str, data: str, threads: int, steps: int, out: Path) -> dict:
    cfg = variant(name, data, threads)
    trainer = Trainer(cfg, out / f"{name}-{threads}", quiet=True)
    t0 = time.perf_counter()
    trainer.setup()
    setup_s = time.perf_counter() - t0
    batches = iter(trainer.loader)
    for _ in range(2):
        trainer.train_step(next(batches))
    elapsed = 0.0
    for _ in range(steps):
        batch = next(batches)
        t = time.perf_counter()
        trainer.train_step(batch)
        elapsed += time.perf_counter() - t
    t = time.perf_counter()
    n_load = max(steps, 10)
    for _ in range(n_load):
        next(batches)
    load_s = time.perf_counter() - t
    trainable = sum(p.numel() for p in trainer.policy.parameters() if p.requires_grad)
    return {
        "preset": name,
        "threads": torch.get_num_threads(),
        "batch": cfg.train.batch_size,
        "params_m": trainable / 1e6,
        "train_sps": steps * cfg.train.batch_size / elapsed,
        "loader_sps": n_load * cfg.train.batch_size / load_s,
        "setup_s": setup_s,
    }


def collect_small(root: Path) -> str:
    from hivla.data.recorder import CollectConfig, collect

    out = root / "bench_data"
    collect(CollectConfig(out=out, episodes=30, image_size=64, workers=1))
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default="", help="dataset directory (default: collect 30 episodes at 64 px)"
    )
    parser.add_argument("--presets", nargs="+", default=["debug", "quick", "quick+frozen", "default"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1])
    parser.add_argument("--steps", type=int, default=20, help="timed steps (the default preset runs 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or collect_small(Path(tmp))
        print(f"data: {data}; cpu cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
        print(
            "| preset | torch threads | batch | trainable params (M) | train samples/s | loader samples/s | setup s |"
        )
        print("|---|---|---|---|---|---|---|")
        for name in args.presets:
            for threads in args.threads:
                steps = 3 if name == "default" else args.steps
                r = measure(name, data, threads, steps, Path(tmp))
                print(
                    f"| {r['preset']} | {r['threads']} | {r['batch']} | {r['params_m']:.2f} | "
                    f"{r['train_sps']:.1f} | {r['loader_sps']:.0f} | {r['setup_s']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
