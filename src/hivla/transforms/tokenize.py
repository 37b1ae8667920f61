"""Tokenize text fields with any tokenizer object that has ``encode`` (and ``decode``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from hivla.transforms.base import Sample


def _ids(tokenizer: Any, text: str) -> list[int]:
    out = tokenizer.encode(text)
    return list(getattr(out, "ids", out))  # HF `tokenizers` returns an Encoding with .ids


@dataclass(frozen=True)
class Tokenize:
    """``data[key]`` (str or list of str) -> ``data[out_key]`` int64[L] / [B, L] padded with
    ``pad_id`` and truncated to ``max_len``, plus ``data[out_key + "_mask"]`` bool (True = token)."""

    tokenizer: Any
    key: str = "task"
    out_key: str = "task_tokens"
    max_len: int = 48
    pad_id: int = 0

    def __post_init__(self) -> None:
        if not callable(getattr(self.tokenizer, "encode", None)):
            raise TypeError(
                f"tokenizer must have an encode(text) method, got {type(self.tokenizer).__name__}"
            )
        if self.max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")

    def __call__(self, data: Sample) -> Sample:
        if self.key not in data:
            raise KeyError(f"Tokenize: key {self.key!r} is missing; the sample has {sorted(data)}")
        text = data[self.key]
        batched = not isinstance(text, str)
        texts = list(text) if batched else [text]
        tokens = torch.full((len(texts), self.max_len), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), self.max_len), dtype=torch.bool)
        for i, t in enumerate(texts):
            ids = _ids(self.tokenizer, t)[: self.max_len]
            tokens[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            mask[i, : len(ids)] = True
        out = dict(data)
        out[self.out_key] = tokens if batched else tokens[0]
        out[f"{self.out_key}_mask"] = mask if batched else mask[0]
        return out

    def decode(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> str:
        """Token ids (one sequence) back to text with the tokenizer's ``decode``."""
        ids = tokens[mask] if mask is not None else tokens
        return self.tokenizer.decode([int(i) for i in ids])
