"""Discrete action representations behind one interface: uniform bins (RT-2/OpenVLA) and FAST."""

from hivla.actions.tokenizers import bins, fast  # noqa: F401  (registers "bins" and "fast")
from hivla.actions.tokenizers.base import (
    TOKENIZERS,
    ActionTokenizer,
    QuantileNormalizer,
    TokenizerConfig,
    load_tokenizer,
    make_tokenizer,
)
from hivla.actions.tokenizers.bins import BinningConfig, BinningTokenizer
from hivla.actions.tokenizers.fast import FastConfig, FastTokenizer

__all__ = [
    "TOKENIZERS",
    "ActionTokenizer",
    "BinningConfig",
    "BinningTokenizer",
    "FastConfig",
    "FastTokenizer",
    "QuantileNormalizer",
    "TokenizerConfig",
    "load_tokenizer",
    "make_tokenizer",
]
