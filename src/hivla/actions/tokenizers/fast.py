"""FAST: DCT of the normalized chunk, scaled and rounded, then BPE (Pertsch et al. 2025)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hivla.actions.tokenizers.base import ActionTokenizer, TokenizerConfig, register_tokenizer
from hivla.actions.tokenizers.dct import dct, idct

BPE_FILE = "fast_bpe.json"
_CHAR_BASE = 0x100  # first code point used for coefficient symbols (skips ASCII and whitespace)
_CHAR_LIMIT = 0xD800  # the UTF-16 surrogates start here; symbols must stay below


@dataclass(frozen=True)
class FastConfig(TokenizerConfig):
    """``scale`` multiplies DCT coefficients before rounding (FAST default 10); ``vocab_size``
    is the BPE vocabulary size including the coefficient alphabet (FAST default 1024)."""

    scale: float = 10.0
    vocab_size: int = 1024

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (isinstance(self.scale, int | float) and math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a finite number > 0, got {self.scale!r}")
        if not isinstance(self.vocab_size, int) or self.vocab_size < 2:
            raise ValueError(f"vocab_size must be an int >= 2, got {self.vocab_size!r}")


def coefficient_bound(horizon: int, scale: float) -> int:
    """Largest |rounded coefficient| possible: for x in [-1, 1]^H the orthonormal DCT keeps
    ||x||_2 <= sqrt(H), so every |coefficient * scale| <= scale * sqrt(H)."""
    return math.ceil(scale * math.sqrt(horizon))


@register_tokenizer("fast")
class FastTokenizer(ActionTokenizer):
    """Frequency-space action tokenization (Pertsch et al. 2025, FAST).

    Encode: normalize to [-1, 1] (q01/q99), orthonormal DCT-II over time per dimension,
    multiply by ``scale``, round; flatten low frequencies first (frequency 0 of every dim, then
    frequency 1, ...); map each integer to one unicode symbol; BPE (HF ``tokenizers``, trained
    by :meth:`fit` on the dataset's chunks) compresses the symbol string. The alphabet covers
    every integer the DCT can produce (:func:`coefficient_bound`), so the only loss is rounding:
    at most ``0.5 * sqrt(H) / scale`` per value in normalized units (usually far less).

    Unlike byte-level BPE on UTF-8, one symbol is one coefficient, so no token can split a
    coefficient. ``decode`` drops unknown ids, zero-fills missing (highest-frequency)
    coefficients, cuts extra ones and clips the result to [-1, 1]: any id sequence decodes.
    """

    config_cls = FastConfig
    config: FastConfig

    def __init__(self, config: FastConfig | None = None) -> None:
        super().__init__(config)
        self._bpe: Any = None
        self._pieces: list[str] = []  # id -> symbol string, for a decode that never raises

    # -- symbol mapping -------------------------------------------------------------------------
    @property
    def _bound(self) -> int:
        return coefficient_bound(self.horizon, self.config.scale)

    def _to_text(self, normalized: np.ndarray) -> str:
        coeffs = np.rint(dct(normalized) * self.config.scale).astype(np.int64)  # (H, A), freq-major
        codes = np.clip(coeffs.reshape(-1), -self._bound, self._bound) + self._bound + _CHAR_BASE  # (H*A,)
        return "".join(map(chr, codes.tolist()))

    def _from_text(self, text: str) -> np.ndarray:
        size = self.horizon * self.action_dim
        codes = np.fromiter((ord(c) for c in text), dtype=np.int64, count=len(text)) - _CHAR_BASE
        codes = codes[(codes >= 0) & (codes <= 2 * self._bound)][:size] - self._bound
        coeffs = np.zeros(size)
        coeffs[: len(codes)] = codes / self.config.scale
        return idct(coeffs.reshape(self.horizon, self.action_dim))  # (H, A)

    # -- ActionTokenizer hooks ------------------------------------------------------------------
    def _fit(self, normalized: np.ndarray) -> None:
        from tokenizers import Tokenizer, models, trainers

        alphabet_size = 2 * self._bound + 1
        if alphabet_size > self.config.vocab_size or _CHAR_BASE + alphabet_size > _CHAR_LIMIT:
            raise ValueError(
                f"FAST with scale={self.config.scale} and horizon={self.horizon} needs "
                f"{alphabet_size} coefficient symbols, more than vocab_size={self.config.vocab_size} "
                "(or the unicode range): raise vocab_size or lower scale"
            )
        alphabet = [chr(_CHAR_BASE + i) for i in range(alphabet_size)]
        trainer = trainers.BpeTrainer(
            vocab_size=self.config.vocab_size,
            initial_alphabet=alphabet,
            limit_alphabet=alphabet_size,
            special_tokens=[],
            show_progress=False,
        )
        bpe = Tokenizer(models.BPE())
        bpe.train_from_iterator((self._to_text(chunk) for chunk in normalized), trainer=trainer)
        self._set_bpe(bpe)

    def _set_bpe(self, bpe: Any) -> None:
        self._bpe = bpe
        size = bpe.get_vocab_size()
        self._pieces = [bpe.id_to_token(i) or "" for i in range(size)]

    def _vocab_size(self) -> int:
        return len(self._pieces)

    def _encode(self, normalized: np.ndarray) -> np.ndarray:
        return np.asarray(self._bpe.encode(self._to_text(normalized)).ids, dtype=np.int64)

    def _decode(self, ids: list[int]) -> np.ndarray:
        return self._from_text("".join(self._pieces[i] for i in ids))

    def _save_files(self, path: Path) -> dict[str, Any]:
        (path / BPE_FILE).write_text(self._bpe.to_str())
        return {"bpe_file": BPE_FILE}

    def _load_files(self, path: Path, meta: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        bpe_path = path / meta.get("bpe_file", BPE_FILE)
        if not bpe_path.is_file():
            raise FileNotFoundError(f"FAST tokenizer directory {path} lacks its BPE file {bpe_path.name}")
        self._set_bpe(Tokenizer.from_str(bpe_path.read_text()))
