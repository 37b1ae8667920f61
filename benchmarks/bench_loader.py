"""Dataset loader throughput: samples/s of ChunkDataset through a torch DataLoader.

Records (or reuses) scripted-expert datasets at each image size, then times one cold epoch
(videos decoded on first touch) and warm epochs (decoded episodes served from the LRU cache),
batch 64, shuffled, 0 and 2 DataLoader workers.

    python benchmarks/bench_loader.py                      # 64 and 128 px, 0 and 2 workers
    python benchmarks/bench_loader.py --episodes 40 --sizes 128 --workers 2

``--random-access`` measures what the video layout decides instead: frames/s of single-frame reads
at random (episode, camera, frame) positions straight from the mp4 files (seek to the keyframe
before, decode up to the frame; no cache), frames/s of whole-episode decoding (what the loader's
cache does on a miss) and the dataset's size on disk.

    python benchmarks/bench_loader.py --random-access --suite tabletop-chain-4 --episodes 8 --sizes 128
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def dataset(root: Path, size: int, episodes: int, suite: str = "tabletop-single", gop: int = 0) -> Path:
    """Record (or reuse) a dataset; ``gop`` > 0 overrides the default keyframe interval."""
    from hivla.data.recorder import CollectConfig, collect

    path = root / f"{suite}-{size}px-{episodes}ep{f'-gop{gop}' if gop else ''}"
    if not (path / "meta/info.json").is_file():
        t = time.perf_counter()
        kw = {}
        if gop:
            from hivla.data.video import VideoConfig

            kw["video"] = VideoConfig(gop=gop)
        collect(CollectConfig(out=path, suite=suite, episodes=episodes, workers=2, image_size=size, **kw))
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


def disk_bytes(root: Path, sub: str = "") -> int:
    return sum(f.stat().st_size for f in (root / sub).rglob("*") if f.is_file())


def bench_random_access(path: Path, reads: int, seed: int = 0) -> dict:
    """Single-frame reads at random positions and whole-episode decodes, straight from the mp4s."""
    import numpy as np

    from hivla.data import DatasetMeta
    from hivla.data.reader import VideoCache, image_hw
    from hivla.data.video import decode_video

    meta = DatasetMeta.load(path)
    files = VideoCache(meta, max_bytes=0)
    rng = np.random.default_rng(seed)
    picks = [
        (meta.episodes[int(rng.integers(len(meta.episodes)))], meta.video_keys[int(rng.integers(2))])
        for _ in range(reads)
    ]
    t0 = time.perf_counter()
    for ep, key in picks:
        t = int(rng.integers(int(ep["length"])))
        start = float(ep.get(f"videos/{key}/from_timestamp", 0.0)) + t / meta.fps
        frames = decode_video(files.video_path(ep, key), meta.fps, start, start + 1 / meta.fps,
                              shape=image_hw(meta.features[key]))  # fmt: skip
        assert len(frames) == 1, f"expected one frame at {start:.3f}s, decoded {len(frames)}"
    random_rate = reads / (time.perf_counter() - t0)
    n, t0 = 0, time.perf_counter()
    for ep in meta.episodes:
        for key in meta.video_keys:
            n += len(files.decode(ep, key))
    return {
        "episodes": len(meta.episodes), "frames": meta.total_frames, "random": random_rate,
        "sequential": n / (time.perf_counter() - t0), "bytes": disk_bytes(path),
        "video_bytes": disk_bytes(path, "videos"), "video": meta.info.get("hivla", {}).get("video"),
    }  # fmt: skip


def main_random_access(args) -> None:
    print(f"random access: {args.reads} single-frame reads at random (episode, camera, frame), seed 0")
    print(
        "| image px | episodes | frames | video settings | random reads frames/s | whole-episode decode frames/s | videos MB | dataset MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        r = bench_random_access(dataset(args.root, size, args.episodes, args.suite, args.gop), args.reads)
        print(
            f"| {size} | {r['episodes']} | {r['frames']} | {r['video']} | {r['random']:.0f} | "
            f"{r['sequential']:.0f} | {r['video_bytes'] / 1e6:.2f} | {r['bytes'] / 1e6:.2f} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("/tmp/hivla-bench-loader"))
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warm-epochs", type=int, default=3)
    p.add_argument("--uint8", action="store_true", help="uint8 images (convert on the training side)")
    p.add_argument("--random-access", action="store_true", help="time random single-frame video reads")
    p.add_argument("--reads", type=int, default=300, help="reads for --random-access")
    p.add_argument("--suite", default="tabletop-single", help="suite recorded for --random-access")
    p.add_argument("--gop", type=int, default=0, help="keyframe interval to record with (0: the default)")
    args = p.parse_args()
    import torch

    if args.random_access:
        torch.set_num_threads(1)
        return main_random_access(args)

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
