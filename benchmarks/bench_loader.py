"""Dataset loader throughput: samples/s of ChunkDataset through a torch DataLoader.

Records (or reuses) scripted-expert datasets at each image size, then times one cold epoch
(videos decoded on first touch) and warm epochs (decoded episodes served from the LRU cache),
batch 64, shuffled, 0 and 2 DataLoader workers.

    python benchmarks/bench_loader.py                      # 64 and 128 px, 0 and 2 workers
    python benchmarks/bench_loader.py --episodes 40 --sizes 128 --workers 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def dataset(root: Path, size: int, episodes: int) -> Path:
    from hivla.data.recorder import CollectConfig, collect

    path = root / f"tabletop-single-{size}px-{episodes}ep"
    if not (path / "meta/info.json").is_file():
        t = time.perf_counter()
        collect(
            CollectConfig(out=path, suite="tabletop-single", episodes=episodes, workers=2, image_size=size)
        )
        print(f"recorded {path} in {time.perf_counter() - t:.1f}s")
    return path


def epoch(loader) -> tuple[int, float]:
    n, t = 0, time.perf_counter()
    for batch in loader:
        n += len(batch["action"])
    return n, time.perf_counter() - t


def bench(path: Path, workers: int, batch: int, warm_epochs: int, uint8: bool) -> dict:
    import torch

    from hivla.data import ChunkDataset, LoaderConfig

    ds = ChunkDataset(path, LoaderConfig(n_obs_steps=2, horizon=16, uint8_images=uint8))
    loader = torch.utils.data.DataLoader(
        ds, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0
    )
    n, cold = epoch(loader)
    total, warm = 0, 0.0
    for _ in range(warm_epochs):
        k, dt = epoch(loader)
        total, warm = total + k, warm + dt
    return {"frames": len(ds), "cold": n / cold, "warm": total / warm}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("/tmp/hivla-bench-loader"))
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warm-epochs", type=int, default=3)
    p.add_argument("--uint8", action="store_true", help="uint8 images (convert on the training side)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    for size in args.sizes:
        path = dataset(args.root, size, args.episodes)
        for w in args.workers:
            r = bench(path, w, args.batch, args.warm_epochs, args.uint8)
            rows.append((size, w, r))
    print(
        f"ChunkDataset(n_obs_steps=2, horizon=16, cameras front+wrist, {'uint8' if args.uint8 else 'float32'} images), batch {args.batch}"
    )
    print("| image px | workers | frames | cold epoch samples/s | warm samples/s |")
    print("|---|---|---|---|---|")
    for size, w, r in rows:
        print(f"| {size} | {w} | {r['frames']} | {r['cold']:.0f} | {r['warm']:.0f} |")


if __name__ == "__main__":
    main()
