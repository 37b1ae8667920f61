"""The action-tokenizer interface, quantile normalization, checkpoint format and registry.

A tokenizer turns one action chunk float[H, A] into a 1-D sequence of integer ids and back.
It is fitted on a dataset's chunks (normalization statistics, and for FAST a BPE vocabulary)
and saved as a checkpoint asset: a directory of JSON and plain files, never a pickle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from hivla.checkpoints import CheckpointFormat
from hivla.registry import Registry

FORMAT_VERSION = 1
META_FILE = "action_tokenizer.json"
TOKENIZER_FORMAT = CheckpointFormat(
    "hivla.action_tokenizer", FORMAT_VERSION, META_FILE, "saved action tokenizer", "`ActionTokenizer.save`"
)

TOKENIZERS: Registry[type[ActionTokenizer]] = Registry("action tokenizer")

_T = TypeVar("_T", bound="type[ActionTokenizer]")


def register_tokenizer(name: str) -> Callable[[_T], _T]:
    """Register a tokenizer class under ``name`` and record the name on the class."""

    def decorator(cls: _T) -> _T:
        cls.name = name
        TOKENIZERS.add(name, cls)
        return cls

    return decorator


def check_chunks(chunks: Any) -> np.ndarray:
    """Validate a stack of chunks; return float64[N, H, A]. Raises ValueError on bad input."""
    arr = np.asarray(chunks, dtype=np.float64)
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"chunks must have shape [N, H, A] with N, H, A >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"chunks contain NaN or inf ({int(np.sum(~np.isfinite(arr)))} values)")
    return arr


def check_chunk(chunk: Any, horizon: int, action_dim: int) -> np.ndarray:
    """Validate one chunk; return float64[H, A]. Raises ValueError on bad shape or NaN/inf."""
    arr = np.asarray(chunk, dtype=np.float64)
    if arr.shape != (horizon, action_dim):
        raise ValueError(f"chunk must have shape (H, A) = ({horizon}, {action_dim}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        raise ValueError(
            f"chunk contains NaN or inf at {len(bad)} (step, dim) positions, first {tuple(bad[0].tolist())}"
        )
    return arr


def valid_ids(ids: Any, vocab_size: int) -> list[int]:
    """Keep the ids in [0, vocab_size) from any 1-D sequence of integers (any size, any order).

    Out-of-vocabulary ids (negative, too large, arbitrarily large Python ints) and entries that
    are not integers (NaN, None) are dropped, as a model's non-action tokens would be. Raises
    ValueError if ``ids`` is not 1-D.
    """
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1:
            raise ValueError(f"ids must be a 1-D sequence of integers, got an array of shape {ids.shape}")
        if np.issubdtype(ids.dtype, np.integer):
            return ids[(ids >= 0) & (ids < vocab_size)].astype(np.int64).tolist()
        ids = ids.tolist()
    if hasattr(ids, "tolist"):  # torch tensors
        ids = ids.tolist()
    out: list[int] = []
    for i in ids:
        if isinstance(i, list | tuple):
            raise ValueError("ids must be a 1-D sequence of integers, got a nested sequence")
        try:
            value = int(i)
        except (TypeError, ValueError, OverflowError):  # NaN, inf, None: not an id
            continue
        if 0 <= value < vocab_size:
            out.append(value)
    return out


@dataclass(frozen=True)
class QuantileNormalizer:
    """Maps each action dimension's [q_low, q_high] to [-1, 1] and clips (RT-2, OpenVLA, FAST).

    ``low``/``high`` are float64[A]. A constant dimension (high == low) maps to -1 and back.
    """

    low: np.ndarray
    high: np.ndarray

    def __post_init__(self) -> None:
        low = np.asarray(self.low, dtype=np.float64)
        high = np.asarray(self.high, dtype=np.float64)
        if low.ndim != 1 or low.shape != high.shape:
            raise ValueError(f"low and high must both be float[A], got shapes {low.shape} and {high.shape}")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(high >= low)):
            raise ValueError(f"need finite low <= high per dimension, got low={low} high={high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @classmethod
    def fit(cls, chunks: np.ndarray, q_low: float, q_high: float) -> QuantileNormalizer:
        """Per-dimension quantiles over every step of every chunk float[N, H, A]."""
        flat = chunks.reshape(-1, chunks.shape[-1])  # (N*H, A)
        return cls(np.quantile(flat, q_low, axis=0), np.quantile(flat, q_high, axis=0))

    @classmethod
    def identity(cls, action_dim: int) -> QuantileNormalizer:
        """For inputs that are already normalized to [-1, 1]."""
        return cls(-np.ones(action_dim), np.ones(action_dim))

    def _span(self) -> np.ndarray:
        return np.maximum(self.high - self.low, 1e-12)

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """float[..., A] -> float64[..., A] in [-1, 1] (values outside the quantiles are clipped)."""
        return np.clip(2.0 * (np.asarray(x, dtype=np.float64) - self.low) / self._span() - 1.0, -1.0, 1.0)

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        """float[..., A] in [-1, 1] -> float64[..., A] in action units."""
        return (np.asarray(x, dtype=np.float64) + 1.0) / 2.0 * (self.high - self.low) + self.low

    def to_json(self) -> dict[str, list[float]]:
        return {"low": self.low.tolist(), "high": self.high.tolist()}


@dataclass(frozen=True)
class TokenizerConfig:
    """Options every tokenizer shares.

    ``normalize=False`` means the inputs are already normalized to [-1, 1] (e.g. by the data
    pipeline's own quantile statistics); the tokenizer then only clips them.
    """

    low_quantile: float = 0.01
    high_quantile: float = 0.99
    normalize: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_quantile < self.high_quantile <= 1.0:
            raise ValueError(
                f"need 0 <= low_quantile < high_quantile <= 1, got {self.low_quantile}, {self.high_quantile}"
            )


class ActionTokenizer:
    """One interface for discrete action representations.

    ``fit(chunks)`` learns statistics from float[N, H, A]; ``encode(chunk)`` maps float[H, A]
    (action units) to int64[n]; ``decode(ids)`` maps any id sequence back to float32[H, A] and
    never raises on bad ids. ``save(dir)`` / :func:`load_tokenizer` round-trip a fitted tokenizer.
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type[TokenizerConfig]] = TokenizerConfig

    def __init__(self, config: TokenizerConfig | None = None) -> None:
        self.config = config if config is not None else self.config_cls()
        if not isinstance(self.config, self.config_cls):
            raise ValueError(f"{type(self).__name__} needs a {self.config_cls.__name__}, got {self.config!r}")
        self.normalizer: QuantileNormalizer | None = None
        self.horizon = 0
        self.action_dim = 0

    # -- to implement -------------------------------------------------------------------------
    def _fit(self, normalized: np.ndarray) -> None:
        """Learn from normalized chunks float64[N, H, A] in [-1, 1] (after the statistics)."""

    def _encode(self, normalized: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode(self, ids: list[int]) -> np.ndarray:
        """Valid in-vocabulary ids -> normalized float64[H, A] in [-1, 1]."""
        raise NotImplementedError

    def _vocab_size(self) -> int:
        raise NotImplementedError

    def _save_files(self, path: Path) -> dict[str, Any]:
        """Write extra files into ``path``; return extra metadata for the JSON file."""
        return {}

    def _load_files(self, path: Path, meta: dict[str, Any]) -> None:
        """Read what :meth:`_save_files` wrote."""

    # -- public API ---------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.normalizer is not None

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids; every id ``encode`` emits is in [0, vocab_size)."""
        self._require_fitted()
        return self._vocab_size()

    def fit(self, chunks: Any) -> ActionTokenizer:
        """Learn normalization statistics (and any vocabulary) from chunks float[N, H, A]."""
        arr = check_chunks(chunks)
        _, self.horizon, self.action_dim = arr.shape
        cfg = self.config
        if cfg.normalize:
            normalizer = QuantileNormalizer.fit(arr, cfg.low_quantile, cfg.high_quantile)
        else:
            normalizer = QuantileNormalizer.identity(self.action_dim)
        self.normalizer = None  # stays unfitted if _fit raises
        self._fit(normalizer.normalize(arr))
        self.normalizer = normalizer
        return self

    def normalize(self, chunk: Any) -> np.ndarray:
        """Action units float[..., A] -> float64[..., A] in [-1, 1] with the fitted statistics."""
        self._require_fitted()
        assert self.normalizer is not None
        return self.normalizer.normalize(chunk)

    def encode(self, chunk: Any) -> np.ndarray:
        """One chunk float[H, A] in action units -> int64[n] ids. Raises ValueError on bad input."""
        self._require_fitted()
        arr = check_chunk(chunk, self.horizon, self.action_dim)
        ids = np.asarray(self._encode(self.normalize(arr)), dtype=np.int64)
        return ids

    def decode(self, ids: Any) -> np.ndarray:
        """Any 1-D id sequence -> float32[H, A] in action units, always finite.

        Out-of-vocabulary ids are dropped; a short sequence is completed and a long one is cut
        (each tokenizer says how); the result is clipped to the fitted quantile range.
        """
        self._require_fitted()
        assert self.normalizer is not None
        normalized = self._decode(valid_ids(ids, self._vocab_size()))
        normalized = np.clip(np.nan_to_num(normalized, nan=0.0), -1.0, 1.0)
        return self.normalizer.denormalize(normalized).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        """Write the fitted tokenizer into directory ``path`` (created); return it."""
        self._require_fitted()
        assert self.normalizer is not None
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            "kind": self.name,
            "config": asdict(self.config),
            "horizon": self.horizon,
            "action_dim": self.action_dim,
            "normalizer": self.normalizer.to_json(),
        }
        TOKENIZER_FORMAT.write_meta(out, {**meta, **self._save_files(out)})
        return out

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise RuntimeError(
                f"{type(self).__name__} is not fitted: call fit(chunks) or load_tokenizer(dir)"
            )

    def __repr__(self) -> str:
        shape = f"H={self.horizon}, A={self.action_dim}" if self.fitted else "unfitted"
        return f"{type(self).__name__}({self.config}, {shape})"


def make_tokenizer(name: str, **kwargs: Any) -> ActionTokenizer:
    """Build an unfitted tokenizer by registered name; ``kwargs`` are its config fields."""
    cls = TOKENIZERS.get(name)
    return cls(cls.config_cls(**kwargs))


def load_tokenizer(path: str | Path) -> ActionTokenizer:
    """Load a tokenizer saved by :meth:`ActionTokenizer.save` from directory ``path``."""
    meta = TOKENIZER_FORMAT.read_meta(path)
    cls = TOKENIZERS.get(meta["kind"])
    tok = cls(cls.config_cls(**meta["config"]))
    tok.horizon, tok.action_dim = int(meta["horizon"]), int(meta["action_dim"])
    tok.normalizer = QuantileNormalizer(
        np.asarray(meta["normalizer"]["low"]), np.asarray(meta["normalizer"]["high"])
    )
    tok._load_files(Path(path), meta)
    return tok
