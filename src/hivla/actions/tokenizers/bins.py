"""Uniform binning of normalized actions: one token per dimension per step (RT-2, OpenVLA)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hivla.actions.tokenizers.base import ActionTokenizer, TokenizerConfig, register_tokenizer


@dataclass(frozen=True)
class BinningConfig(TokenizerConfig):
    """``n_bins`` equal-width bins over [-1, 1] after q01/q99 normalization (256 in RT-2/OpenVLA)."""

    n_bins: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ValueError(f"n_bins must be an int >= 2, got {self.n_bins!r}")


@register_tokenizer("bins")
class BinningTokenizer(ActionTokenizer):
    """Per-dimension uniform bins (Brohan et al. 2023, RT-2; Kim et al. 2024, OpenVLA).

    A chunk float[H, A] becomes H*A ids (time-major: step 0's A dims, then step 1's, ...), each
    the index of its bin; decoding returns bin centres, so the round-trip error in normalized
    units is at most half a bin, 1/n_bins. ``decode`` pads a short id sequence with the
    normalized 0 (the middle of the quantile range) and cuts a long one.
    """

    config_cls = BinningConfig
    config: BinningConfig

    def _vocab_size(self) -> int:
        return self.config.n_bins

    def _encode(self, normalized: np.ndarray) -> np.ndarray:
        n = self.config.n_bins
        ids = np.floor((normalized + 1.0) / 2.0 * n).astype(np.int64)  # (H, A)
        return np.clip(ids, 0, n - 1).reshape(-1)  # (H*A,)

    def _decode(self, ids: list[int]) -> np.ndarray:
        n, size = self.config.n_bins, self.horizon * self.action_dim
        values = np.zeros(size)
        ids_arr = np.asarray(ids[:size], dtype=np.int64)
        values[: len(ids_arr)] = (ids_arr + 0.5) / n * 2.0 - 1.0  # bin centres in [-1, 1]
        return values.reshape(self.horizon, self.action_dim)  # (H, A)
