"""Tokens per chunk, reconstruction error and speed of the action tokenizers (bins vs FAST).

Fits each tokenizer on a training split of the chunks and measures on the held-out rest:
tokens per chunk, mean and max absolute reconstruction error in normalized units ([-1, 1]
after the q01/q99 normalization; values outside the quantiles are clipped by both tokenizers
alike and that clipping is not counted), and encode/decode time per chunk.

    python benchmarks/bench_tokenizers.py                       # SYNTHETIC smooth trajectories
    python benchmarks/bench_tokenizers.py --chunks chunks.npy   # real chunks float[N, H, A]
    python benchmarks/bench_tokenizers.py --data DIR --horizon 10  # chunks from a recorded dataset
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

from hivla.actions.synthetic import smooth_chunks
from hivla.actions.tokenizers import ActionTokenizer, make_tokenizer


@dataclass(frozen=True)
class Config:
    """Benchmark the action tokenizers on chunks from a .npy file or on synthetic data."""

    chunks: Path | None = None  # .npy of float[N, H, A]; default: synthetic smooth trajectories
    data: Path | None = None  # a dataset recorded by `hivla collect`: every unpadded chunk of `horizon`
    action_key: str = "action.universal"  # with --data: "action" (native) or "action.universal"
    n: int = 2000  # synthetic chunks to generate
    horizon: int = 50  # synthetic H
    action_dim: int = 7  # synthetic A (the last dim is a binary gripper)
    scales: tuple[float, ...] = (5.0, 10.0, 20.0, 50.0)  # FAST DCT scales
    vocab_size: int = 1024  # FAST BPE vocabulary
    train_fraction: float = 0.8  # fit on this share, measure on the rest
    max_eval: int = 400  # held-out chunks measured (timing runs per chunk)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.n < 2 or self.max_eval < 1:
            raise ValueError(f"need n >= 2 and max_eval >= 1, got {self.n}, {self.max_eval}")


def load_chunks(cfg: Config) -> tuple[np.ndarray, str]:
    """The chunks float[N, H, A] and a label saying where they came from."""
    if cfg.data is not None:
        return dataset_chunks(cfg), f"{cfg.data} ({cfg.action_key}, every unpadded chunk of H={cfg.horizon})"
    if cfg.chunks is None:
        data = smooth_chunks(cfg.n, cfg.horizon, cfg.action_dim, seed=cfg.seed)
        label = f"SYNTHETIC smooth trajectories (hivla.actions.synthetic.smooth_chunks, seed {cfg.seed})"
        return data, label
    data = np.load(cfg.chunks)
    if data.ndim != 3:
        raise ValueError(f"{cfg.chunks} must hold float[N, H, A], got shape {data.shape}")
    return data.astype(np.float64), str(cfg.chunks)


def dataset_chunks(cfg: Config) -> np.ndarray:
    """float[N, H, A]: every chunk of ``horizon`` consecutive actions that stays inside its episode."""
    from hivla.data import ChunkDataset, LoaderConfig

    ds = ChunkDataset(cfg.data, LoaderConfig(horizon=cfg.horizon, action_key=cfg.action_key, cameras=()))
    chunks = []
    for i in range(len(ds)):
        sample = ds[i]
        if not bool(sample["action_is_pad"].any()):
            chunks.append(np.asarray(sample["action"]))  # the chosen action column
    if len(chunks) < 2:
        raise ValueError(f"{cfg.data}: fewer than 2 unpadded chunks of horizon {cfg.horizon}")
    return np.stack(chunks).astype(np.float64)


def measure(tok: ActionTokenizer, chunks: np.ndarray) -> dict[str, float]:
    """Tokens per chunk, normalized reconstruction error and per-chunk timings on ``chunks``."""
    lengths, errors, enc_time, dec_time = [], [], 0.0, 0.0
    for chunk in chunks:
        t0 = time.perf_counter()
        ids = tok.encode(chunk)
        t1 = time.perf_counter()
        out = tok.decode(ids)
        t2 = time.perf_counter()
        enc_time, dec_time = enc_time + t1 - t0, dec_time + t2 - t1
        lengths.append(len(ids))
        errors.append(np.abs(tok.normalize(out) - tok.normalize(chunk)))
    err = np.stack(errors)  # (N, H, A)
    n = len(chunks)
    return {
        "tokens_mean": float(np.mean(lengths)),
        "tokens_min": float(np.min(lengths)),
        "tokens_max": float(np.max(lengths)),
        "mae": float(err.mean()),
        "max_err": float(err.max()),
        "encode_ms": 1e3 * enc_time / n,
        "decode_ms": 1e3 * dec_time / n,
    }


def main(cfg: Config) -> list[dict[str, float | str]]:
    data, label = load_chunks(cfg)
    order = np.random.default_rng(cfg.seed).permutation(len(data))
    split = max(1, int(cfg.train_fraction * len(data)))
    train, test = data[order[:split]], data[order[split:]][: cfg.max_eval]
    n, h, a = data.shape
    print(f"data: {label}; N={n}, H={h}, A={a}; fit on {len(train)}, measured on {len(test)} held-out chunks")
    variants: list[tuple[str, str, ActionTokenizer]] = [("bins", "-", make_tokenizer("bins"))]
    for scale in cfg.scales:
        variants.append(
            ("fast", f"{scale:g}", make_tokenizer("fast", scale=scale, vocab_size=cfg.vocab_size))
        )
    header = "| tokenizer | DCT scale | vocab | tokens/chunk mean (min-max) | MAE (norm.) | max err | encode ms | decode ms |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    rows: list[dict[str, float | str]] = []
    for name, scale, tok in variants:
        tok.fit(train)
        r = measure(tok, test)
        print(
            f"| {name} | {scale} | {tok.vocab_size} | {r['tokens_mean']:.1f} ({r['tokens_min']:.0f}-{r['tokens_max']:.0f}) "
            f"| {r['mae']:.4f} | {r['max_err']:.3f} | {r['encode_ms']:.3f} | {r['decode_ms']:.3f} |"
        )
        rows.append({"tokenizer": name, "scale": scale, "vocab": tok.vocab_size, **r})
    return rows


if __name__ == "__main__":
    main(tyro.cli(Config, description=__doc__))
