"""Action heads on top of the backbone: any expert or tokenizer from :mod:`hivla.actions`.

Continuous heads (``flow`` pi0, ``diffusion`` DDPM/DDIM, ``l1`` OpenVLA-OFT) condition a
:class:`hivla.actions.experts.ActionExpert` on the flattened readout tokens. Discrete heads
(``bins`` RT-2/OpenVLA, ``fast`` FAST) predict token ids with a small transformer decoder that
cross-attends to every backbone token, either autoregressively (teacher forcing, greedy decoding)
or in parallel (one pass over position queries, as OpenVLA-OFT's parallel decoding).
All heads work in normalized action units; token ids are made and decoded by the processor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

HEAD_KINDS = ("flow", "diffusion", "l1", "bins", "fast")
CONTINUOUS = ("flow", "diffusion", "l1")
TOKEN_MODES = ("autoregressive", "parallel")


@dataclass(frozen=True)
class HeadConfig:
    """``kind``: flow | diffusion | l1 | bins | fast.

    ``hidden_dim``/``depth``: the expert's residual MLP. ``sample_steps``: Euler/DDIM steps.
    ``mode``: token decoding, autoregressive or parallel (FAST has a variable length: autoregressive only).
    ``decoder_depth``: layers of the token decoder. ``n_bins``, ``fast_scale``, ``fast_vocab``:
    the tokenizers' sizes. ``max_tokens``: upper bound on a FAST sequence (longer ones are cut).
    """

    kind: str = "flow"
    hidden_dim: int = 256
    depth: int = 3
    sample_steps: int = 10
    mode: str = "parallel"
    decoder_depth: int = 1
    n_bins: int = 256
    fast_scale: float = 10.0
    fast_vocab: int = 512
    max_tokens: int = 64

    def __post_init__(self) -> None:
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"unknown action head {self.kind!r}; available: {', '.join(HEAD_KINDS)}")
        if self.mode not in TOKEN_MODES:
            raise ValueError(f"head mode must be one of {TOKEN_MODES}, got {self.mode!r}")
        if self.kind == "fast" and self.mode != "autoregressive":
            raise ValueError(
                "the fast head needs mode='autoregressive' (FAST sequences vary in length); "
                "use kind='bins' for parallel decoding"
            )
        for name in (
            "hidden_dim",
            "depth",
            "sample_steps",
            "decoder_depth",
            "n_bins",
            "fast_vocab",
            "max_tokens",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"head {name} must be >= 1, got {getattr(self, name)}")

    @property
    def discrete(self) -> bool:
        return self.kind not in CONTINUOUS


class ExpertHead(nn.Module):
    """A continuous expert conditioned on the flattened readouts float[B, R*dim]."""

    discrete = False

    def __init__(self, cfg: HeadConfig, dim: int, readouts: int, horizon: int, action_dim: int) -> None:
        super().__init__()
        from hivla.actions import make_action_expert

        extra = {"flow": {"num_steps": cfg.sample_steps}, "diffusion": {"sample_steps": cfg.sample_steps}}
        self.expert = make_action_expert(
            cfg.kind, cond_dim=dim * readouts, horizon=horizon, action_dim=action_dim,
            hidden_dim=cfg.hidden_dim, depth=cfg.depth, **extra.get(cfg.kind, {}),
        )  # fmt: skip

    def loss(self, readouts, memory, memory_valid, target) -> tuple[torch.Tensor, dict[str, float]]:
        cond = readouts.flatten(1)  # (B, R*dim)
        loss = self.expert.compute_loss(cond, target["actions"], target["mask"])
        return loss, {}

    def sample(self, readouts, memory, memory_valid, generator=None, noise=None) -> torch.Tensor:
        return self.expert.sample(readouts.flatten(1), generator=generator, noise=noise)  # (B, H, A)


class TokenHead(nn.Module):
    """Token ids from a transformer decoder over the backbone tokens.

    Ids ``[0, vocab)`` are the tokenizer's; ``bos = vocab``, ``eos = vocab + 1``, ``pad = vocab + 2``.
    ``length`` is the target sequence length (the processor pads with ``pad``; autoregressive
    targets end with ``eos``). ``sample`` returns long[B, length] ids, specials included.
    """

    discrete = True

    def __init__(self, cfg: HeadConfig, dim: int, heads: int, vocab: int, length: int) -> None:
        super().__init__()
        self.vocab, self.length = vocab, length
        self.bos, self.eos, self.pad = vocab, vocab + 1, vocab + 2
        self.autoregressive = cfg.mode == "autoregressive"
        self.embed = nn.Embedding(vocab + 3, dim)
        self.pos = nn.Parameter(torch.randn(length, dim) * 0.02)
        layer = nn.TransformerDecoderLayer(
            dim, heads, 4 * dim, 0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, cfg.decoder_depth)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, vocab + 2)  # never predicts pad

    def _logits(self, inp: torch.Tensor, memory: torch.Tensor, memory_valid: torch.Tensor) -> torch.Tensor:
        n = inp.shape[1]
        mask = (
            nn.Transformer.generate_square_subsequent_mask(n, device=inp.device)
            if self.autoregressive
            else None
        )
        h = self.decoder(
            inp + self.pos[:n], memory, tgt_mask=mask, tgt_is_causal=self.autoregressive,
            memory_key_padding_mask=~memory_valid,
        )  # fmt: skip
        return self.out(self.norm(h))  # (B, n, vocab + 2)

    def _queries(self, batch: int, device: torch.device) -> torch.Tensor:
        return torch.zeros(batch, self.length, self.pos.shape[1], device=device)  # (B, L, dim)

    def loss(self, readouts, memory, memory_valid, target) -> tuple[torch.Tensor, dict[str, float]]:
        tokens, valid = target["tokens"], target["token_mask"]  # (B, L), (B, L)
        batch = tokens.shape[0]
        if self.autoregressive:
            bos = torch.full((batch, 1), self.bos, dtype=torch.long, device=tokens.device)
            inp = self.embed(torch.cat([bos, tokens[:, :-1]], dim=1))  # (B, L, dim), shifted right
        else:
            inp = self._queries(batch, tokens.device)
        logits = self._logits(inp, memory, memory_valid)  # (B, L, V + 2)
        labels = tokens.masked_fill(~valid, -100)  # (B, L)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        with torch.no_grad():
            hits = (logits.argmax(-1) == tokens) & valid
            acc = hits.sum().float() / valid.sum().clamp(min=1)
        return loss, {"token_accuracy": float(acc)}

    @torch.no_grad()
    def sample(self, readouts, memory, memory_valid, generator=None) -> torch.Tensor:
        batch, device = memory.shape[0], memory.device
        if not self.autoregressive:
            return self._logits(self._queries(batch, device), memory, memory_valid).argmax(-1)  # (B, L)
        ids = torch.full((batch, 1), self.bos, dtype=torch.long, device=device)  # (B, 1)
        for _ in range(self.length):
            nxt = self._logits(self.embed(ids), memory, memory_valid)[:, -1].argmax(-1)  # (B,)
            ids = torch.cat([ids, nxt[:, None]], dim=1)
            if bool((ids[:, 1:] == self.eos).any(dim=1).all()):
                break
        out = torch.full((batch, self.length), self.pad, dtype=torch.long, device=device)
        out[:, : ids.shape[1] - 1] = ids[:, 1:]
        return out  # (B, L)
