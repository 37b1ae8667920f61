"""An optional Hugging Face VLM backbone loaded from a local directory (extra ``hf``).

As in pi0 (Black et al. 2024) and OpenVLA (Kim et al. 2024), a pretrained vision-language model
reads the camera images and the instruction: each camera's image features (vision tower +
connector, ``get_image_features``) are concatenated with the instruction's token embeddings and
run through the VLM's language model; its last hidden states are the prefix tokens the policy's
action backbone attends to. Supported: models with ``get_image_features(pixel_values)`` such as
SmolVLM/Idefics3 and PaliGemma. Nothing is downloaded: ``path`` must hold ``config.json``,
weights and a tokenizer. :func:`make_tiny_vlm` writes a tiny random Idefics3 for tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hivla.models.vision import VisionConfig

_FIVE_D = ("idefics3", "smolvlm")  # models whose pixel_values are [B, n_images, 3, H, W]


def _transformers():
    try:
        import transformers
    except ImportError as err:
        raise ImportError(
            "the hf_vlm backbone needs transformers. Install the extra: pip install 'hivla[hf]'"
        ) from err
    return transformers


def _as_tokens(out: Any, batch: int) -> torch.Tensor:
    """Whatever ``get_image_features`` returned -> float[B, N, D]."""
    if hasattr(out, "pooler_output") and out.pooler_output is not None:
        out = out.pooler_output
    elif hasattr(out, "last_hidden_state"):
        out = out.last_hidden_state
    if isinstance(out, list | tuple):
        out = torch.stack(list(out))  # (B*n, N, D)
    return out.reshape(batch, -1, out.shape[-1])  # (B, N, D)


class HFVLMBackbone(nn.Module):
    """images float[B, C, 3, H, W] in [0, 1] + texts -> (tokens float[B, N, D], valid bool[B, N]).

    ``N = C * image_tokens + max_text_tokens`` is fixed (text padded to ``max_text_tokens``), so
    frozen outputs can be cached per sample. Frozen: no gradients, eval mode, weights not saved
    in policy checkpoints (reloaded from ``path``).
    """

    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        tf = _transformers()
        path = Path(cfg.path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"hf_vlm path {path} has no config.json: point vision.path at a local model directory "
                "(save_pretrained output with its tokenizer); nothing is downloaded"
            )
        self.net = tf.AutoModel.from_pretrained(str(path), local_files_only=True)
        self.tokenizer = tf.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model_type = str(self.net.config.model_type)
        vision_cfg = getattr(self.net.config, "vision_config", None)
        self.image_size = int(getattr(vision_cfg, "image_size", 224))
        mean, std = _image_stats(path)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.max_text_tokens = cfg.max_text_tokens
        self.frozen = cfg.freeze
        self.out_dim = int(self.net.get_input_embeddings().embedding_dim)
        if self.frozen:
            self.net.requires_grad_(False)
            self.net.eval()

    def train(self, mode: bool = True) -> HFVLMBackbone:
        super().train(mode)
        if self.frozen:
            self.net.eval()
        return self

    def _language_model(self) -> nn.Module:
        for name in ("language_model", "text_model"):
            if hasattr(self.net, name):
                return getattr(self.net, name)
        raise ValueError(f"{self.model_type}: no language_model/text_model submodule; unsupported VLM")

    def image_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """One camera float[B, 3, H, W] -> float[B, N_img, D]."""
        batch = images.shape[0]
        x = F.interpolate(images, size=self.image_size, mode="bilinear", align_corners=False, antialias=True)
        x = (x - self.mean) / self.std  # (B, 3, S, S)
        if self.model_type in _FIVE_D:
            x = x[:, None]  # (B, 1, 3, S, S)
        return _as_tokens(self.net.get_image_features(pixel_values=x), batch)

    def forward(self, images: torch.Tensor, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            _batch, cams = images.shape[:2]
            img = torch.cat([self.image_tokens(images[:, c]) for c in range(cams)], dim=1)  # (B, C*N, D)
            enc = self.tokenizer(
                texts, padding="max_length", truncation=True, max_length=self.max_text_tokens,
                return_tensors="pt",
            )  # fmt: skip
            ids = enc["input_ids"].to(images.device)  # (B, L)
            text_mask = enc["attention_mask"].to(images.device).bool()  # (B, L)
            text = self.net.get_input_embeddings()(ids)  # (B, L, D)
            x = torch.cat([img.to(text.dtype), text], dim=1)  # (B, C*N + L, D)
            valid = torch.cat([torch.ones(img.shape[:2], dtype=torch.bool, device=x.device), text_mask], 1)
            out = self._language_model()(inputs_embeds=x, attention_mask=valid.long())
            return out.last_hidden_state.float(), valid  # (B, C*N + L, D), (B, C*N + L)


def _image_stats(path: Path) -> tuple[list[float], list[float]]:
    pre = path / "preprocessor_config.json"
    if pre.is_file():
        meta = json.loads(pre.read_text())
        mean, std = meta.get("image_mean", [0.5] * 3), meta.get("image_std", [0.5] * 3)
        return [float(v) for v in mean], [float(v) for v in std]
    return [0.5] * 3, [0.5] * 3


def make_tiny_vlm(path: str | Path, seed: int = 0, image_size: int = 64) -> Path:
    """Write a tiny randomly initialized Idefics3 (SmolVLM architecture) with a word-level tokenizer.

    For tests and examples only (about 60k parameters, no pretrained knowledge). Built offline.
    """
    tf = _transformers()
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = [
        "pick",
        "place",
        "stack",
        "push",
        "open",
        "close",
        "press",
        "the",
        "a",
        "up",
        "on",
        "in",
        "into",
        "red",
        "green",
        "blue",
        "cube",
        "drawer",
        "button",
    ]
    vocab = {"<pad>": 0, "<unk>": 1, "<eos>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = tf.PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", unk_token="<unk>", eos_token="<eos>"
    )
    vocab_size = 64
    cfg = tf.Idefics3Config(
        vision_config=dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
            image_size=image_size, patch_size=16,
        ),
        text_config=dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=2, vocab_size=vocab_size, max_position_embeddings=256,
            pad_token_id=0,
        ),
        scale_factor=2, image_token_id=vocab_size - 1,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = tf.Idefics3Model(cfg)
    out = Path(path)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out
