"""The flat VLA policy: vision + language + proprio tokens -> transformer -> action head.

One readable model in the spirit of Octo/pi0 (Black et al. 2024) and OpenVLA(-OFT) (Kim et al.
2024, 2025): camera images become tokens (a CNN, a pretrained EfficientNet-Lite0 or a VLM),
the instruction becomes tokens (hashed words or frozen MiniLM; a VLM reads it itself), the state
one token; a transformer mixes them with learned readout tokens, and a head from
``hivla.actions`` turns the readouts into a chunk of H actions (flow, diffusion, L1, bins, FAST).

With ``reasoning.enabled`` the model first writes a grounded reasoning trace (target, its offset
from the gripper, motion primitive, gripper command; ``hivla.policies.vla.reasoning``) with a
small decoder over the backbone's tokens, then runs the backbone again with the trace's tokens
appended, so the actions are conditioned on the trace (Embodied Chain-of-Thought, Zawalski et al.
2024). The policy can reuse a trace over several calls (``set_reasoning_reuse``), and a trace source
can replace each new trace by another (``set_trace_source``: the expert's, for oracle substitution).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hivla.models import (
    ExpertHead,
    ProprioEncoder,
    TokenHead,
    TransformerBackbone,
    build_language_encoder,
    build_vision_encoder,
)
from hivla.models.points import PointNetEncoder
from hivla.models.vision import cell_label, forget_attention
from hivla.policies.base import BasePolicy, register_policy
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.policies.vla.processor_vla import VLAProcessor
from hivla.policies.vla.reasoning import Trace, TraceDecoder, TraceVocab, describe_trace

TraceSource = Callable[[dict[str, Any], Trace], Trace]  # (observation, generated trace) -> trace to use
TARGET_FREQUENCIES = torch.pi * 2.0 ** torch.arange(6)  # Fourier features of the located target's (u, v)


class VLAModel(nn.Module):
    """Model inputs (see :meth:`VLAProcessor.prepare_batch`) -> loss, or normalized chunks / token ids."""

    def __init__(
        self,
        cfg: VLAConfig,
        token_vocab: int = 0,
        token_length: int = 0,
        trace_vocab: TraceVocab | None = None,
    ) -> None:
        super().__init__()
        dim = cfg.backbone.dim
        self.cfg = cfg
        if cfg.vision.kind == "hf_vlm":
            from hivla.models.hf_vlm import HFVLMBackbone

            self.vlm = HFVLMBackbone(cfg.vision)
            vis_dim = self.vlm.out_dim
        self.language = build_language_encoder(cfg.language) if cfg.language.kind != "none" else None
        if cfg.vision.kind != "hf_vlm":
            film_dim = self.language.out_dim if cfg.vision.film and self.language is not None else 0
            self.vision = build_vision_encoder(cfg.vision, film_dim, cfg.image_channels)
            vis_dim = self.vision.out_dim
        self.vision_proj = nn.Linear(vis_dim, dim)
        self.vision_pos = nn.Parameter(torch.randn(self._count_vision_tokens(), dim) * 0.02)
        self.points = None
        if cfg.depth_points:  # one token per camera's point cloud (PointNet)
            self.points = PointNetEncoder(dim)
            self.points_pos = nn.Parameter(torch.randn(len(cfg.cameras), dim) * 0.02)
        if self.language is not None:
            self.language_proj = nn.Linear(self.language.out_dim, dim)
        self.proprio = ProprioEncoder(cfg.state_dim + cfg.contact_dim, dim)  # state (+ touch) token
        # an embedding per body, unless the policy reads the shared proprioception (no body identity)
        several = len(cfg.embodiments) > 1 and cfg.proprio == "body"
        self.embodiment_embed = nn.Embedding(len(cfg.embodiments), dim) if several else None
        self.type_embed = nn.Parameter(torch.randn(3, dim) * 0.02)  # vision, language, state
        self.target_token = None
        if cfg.localize:  # where the target is in each image, with the state: one more token
            coords = len(cfg.cameras) * 2 * 2 * len(TARGET_FREQUENCIES)
            self.target_token = nn.Sequential(
                nn.Linear(coords + cfg.state_dim, dim), nn.GELU(), nn.Linear(dim, dim)
            )
            self.offset_readout = nn.Linear(dim, 3)  # the target's offset from the hand, in decimetres
        self.backbone = TransformerBackbone(cfg.backbone)
        self.trace = None
        if cfg.reasoning.enabled:
            if trace_vocab is None:
                raise ValueError("a reasoning VLA needs the trace vocabulary (from its processor)")
            self.trace = TraceDecoder(trace_vocab, dim, cfg.backbone.heads, cfg.reasoning.depth)
            self.trace_type = nn.Parameter(torch.randn(dim) * 0.02)
        if cfg.head.discrete:
            self.head: nn.Module = TokenHead(cfg.head, dim, cfg.backbone.heads, token_vocab, token_length)
        else:  # a localizing model's head also reads the target token directly (one more readout)
            readouts = cfg.backbone.readouts + (self.target_token is not None)
            self.head = ExpertHead(cfg.head, dim, readouts, cfg.horizon, cfg.action_dim)

    # -- the frozen (cacheable) part ------------------------------------------------------------
    @property
    def vision_frozen(self) -> bool:
        return self.cfg.vision.frozen

    def vision_features(
        self, images: torch.Tensor, texts: list[str], lang: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """images float[B, C, Ch, s, s] (+ texts for a VLM or a FiLM CNN) -> (features float[B, N, Dv],
        valid bool[B, N]). ``lang``: the language encoder's output, if already computed."""
        if self.cfg.vision.kind == "hf_vlm":
            return self.vlm(images, texts)
        batch, cams = images.shape[:2]
        cond = None
        if self.cfg.vision.film:
            tokens, valid = lang if lang is not None else self.language(texts)  # (B, L, Dl), (B, L)
            w = valid.to(tokens.device, tokens.dtype).unsqueeze(-1)  # (B, L, 1)
            pooled = (tokens * w).sum(1) / w.sum(1).clamp(min=1.0)  # (B, Dl)
            cond = pooled.repeat_interleave(cams, dim=0).to(images.device)  # (B*C, Dl)
        flat = images.flatten(0, 1)  # (B*C, Ch, s, s)
        feats = self.vision(flat, cond) if cond is not None else self.vision(flat)  # (B*C, n, Dv)
        feats = feats.reshape(batch, cams * feats.shape[1], feats.shape[2])  # (B, C*n, Dv)
        return feats, torch.ones(feats.shape[:2], dtype=torch.bool, device=feats.device)

    def _count_vision_tokens(self) -> int:
        cfg = self.cfg
        images = torch.zeros(1, len(cfg.cameras), cfg.image_channels, cfg.image_size, cfg.image_size)
        with torch.no_grad():
            return int(self.vision_features(images, ["none"])[0].shape[1])

    def frozen_prefixes(self) -> tuple[str, ...]:
        """State-dict prefixes of frozen pretrained weights, reloaded from their package, not saved."""
        out = []
        if self.cfg.vision.frozen:
            out.append("vlm.net." if self.cfg.vision.kind == "hf_vlm" else "vision.net.")
        if self.cfg.language.frozen:
            out.append("language.net.")
        return tuple(out)

    # -- forward ----------------------------------------------------------------------------------
    def perceive(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (input tokens float[B, N, D], valid bool[B, N]): vision, language and state tokens."""
        tokens, valid, _ = self.perceive_with_features(inputs)
        return tokens, valid

    def perceive_with_features(
        self, inputs: dict[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`perceive` plus the vision encoder's output float[B, Nv, Dv] (before projection)."""
        lang = None
        if "word_ids" in inputs:  # the instruction already hashed (an exported graph's input)
            lang = self.language.embed_ids(inputs["word_ids"])  # (B, L, Dl), (B, L)
        elif self.language is not None:
            lang = self.language(inputs["texts"])  # (B, L, Dl), (B, L)
        if "features.vision" in inputs:  # cached output of a frozen encoder
            feats = inputs["features.vision"]
            valid = inputs.get("features.vision_valid")
            valid = (
                torch.ones(feats.shape[:2], dtype=torch.bool, device=feats.device) if valid is None else valid
            )
        else:
            feats, valid = self.vision_features(inputs["images"], inputs["texts"], lang)
        tokens = [self.vision_proj(feats.float()) + self.vision_pos + self.type_embed[0]]  # (B, Nv, D)
        valids = [valid]
        if self.points is not None:
            points, pvalid = inputs["points"].float(), inputs["points_valid"]  # (B, C, N, 3), (B, C, N)
            cloud = self.points(points.flatten(0, 1), pvalid.flatten(0, 1))  # (B*C, 1, D)
            cloud = cloud.reshape(points.shape[0], points.shape[1], -1)  # (B, C, D)
            tokens.append(cloud + self.points_pos + self.type_embed[0])
            valids.append(torch.ones(cloud.shape[:2], dtype=torch.bool, device=cloud.device))
        if lang is not None:
            lang, lang_valid = lang
            tokens.append(self.language_proj(lang.to(feats.device)) + self.type_embed[1])
            valids.append(lang_valid.to(feats.device))
        proprio = inputs["state"]  # (B, S)
        if self.cfg.contact:
            proprio = torch.cat([proprio, inputs["contact"].to(proprio)], dim=-1)  # (B, S + 10)
        state = self.proprio(proprio) + self.type_embed[2]  # (B, 1, D)
        if self.embodiment_embed is not None:
            state = state + self.embodiment_embed(inputs["embodiment_id"])[:, None]
        tokens.append(state)
        if self.target_token is not None:
            tokens.append(self.located_target(feats, inputs["state"]))
        n_tail = 1 + (self.target_token is not None)
        valids.append(torch.ones(state.shape[0], n_tail, dtype=torch.bool, device=state.device))
        return torch.cat(tokens, dim=1), torch.cat(valids, dim=1), feats  # (B, N, D), (B, N), (B, Nv, Dv)

    def target_keypoints(self, feats: torch.Tensor) -> torch.Tensor:
        """The first spatial-softmax keypoint's image position per camera, float[B, C, 2] (u, v in -1..1),
        from the CNN's output float[B, C * K, Dv] (its last two channels are the coordinates; with
        fine keypoints, the first one is a fine keypoint)."""
        cams, k = len(self.cfg.cameras), self.cfg.vision.keypoints + self.cfg.vision.fine_keypoints
        return feats.reshape(feats.shape[0], cams, k, feats.shape[-1])[:, :, 0, -2:]

    def located_target(self, feats: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The target token float[B, 1, D]: Fourier features of where the first keypoint sits in each
        camera, with the normalized state float[B, S], through a small MLP."""
        uv = self.target_keypoints(feats.float()).flatten(1)  # (B, 2C)
        angles = uv[:, :, None] * TARGET_FREQUENCIES.to(uv.device)  # (B, 2C, F)
        fourier = torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(1)  # (B, 4CF)
        return self.target_token(torch.cat([fourier, state.float()], dim=-1))[:, None]

    def localization_loss(
        self, feats: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """L1 between each camera's first keypoint and the target's image position float[B, C, 3]
        (u, v, visible), over the views where the target is visible."""
        guess = self.target_keypoints(feats.float())  # (B, C, 2)
        seen = target[..., 2]  # (B, C)
        count = seen.sum().clamp(min=1.0)
        loss = ((guess - target[..., :2]).abs().sum(-1) * seen).sum() / count
        pool = self.vision.fine_pool if self.cfg.vision.fine_keypoints else self.vision.pool
        if pool.last_logits is not None:  # cross-entropy on the attention map itself: sharp and centred
            h, w = pool.last_shape
            logits = pool.last_logits.reshape(*seen.shape, -1, h * w)[:, :, 0]  # (B, C, h*w) keypoint 0
            pool.last_logits = None  # a graph tensor must not stay on the module (deepcopy, memory)
            label = cell_label(target[..., :2], h, w)  # (B, C, h*w)
            ce = -(label * logits.float().log_softmax(-1)).sum(-1)  # (B, C)
            loss = loss + (ce * seen).sum() / count
        pixels = (guess - target[..., :2]).detach().norm(dim=-1) * (self.cfg.image_size / 2.0)  # (B, C)
        return loss, {
            "localize_loss": float(loss.detach()),
            "localize_err_px": float((pixels * seen).sum() / count),
        }

    def mix(
        self, tokens: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The backbone -> (readouts float[B, R, D], memory float[B, N + R, D], memory valid bool[B, N + R])."""
        readouts, memory = self.backbone(tokens, valid)  # (B, R, D), (B, N + R, D)
        ones = torch.ones(readouts.shape[:2], dtype=torch.bool, device=readouts.device)
        return readouts, memory, torch.cat([valid, ones], dim=1)

    def with_trace(self, tokens: torch.Tensor, valid: torch.Tensor, trace: torch.Tensor):
        """Append a trace long[B, 7] to the input tokens -> (tokens float[B, N + 7, D], valid)."""
        extra = self.trace.condition_tokens(trace) + self.trace_type  # (B, 7, D)
        ones = torch.ones(extra.shape[:2], dtype=torch.bool, device=extra.device)
        return torch.cat([tokens, extra], dim=1), torch.cat([valid, ones], dim=1)

    def encode(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (readouts float[B, R, D], memory float[B, N + R, D], memory valid bool[B, N + R])."""
        return self.mix(*self.perceive(inputs))

    def loss(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        tokens, valid, feats = self.perceive_with_features(inputs)
        if not self.cfg.localize:
            if hasattr(self, "vision"):  # a VLM backbone has no keypoint pooling
                forget_attention(self.vision)  # keypoint pooling without the loss that reads its logits
            return self._policy_loss(tokens, valid, inputs)
        if "target_uv" not in inputs:
            raise KeyError("localize > 0 needs inputs['target_uv'] (VLAProcessor.prepare_batch makes it)")
        if "target_offset" not in inputs:
            raise KeyError("localize > 0 needs inputs['target_offset'] (VLAProcessor.prepare_batch makes it)")
        target = self.located_target(feats, inputs["state"])  # (B, 1, D)
        loss, metrics = self._policy_loss(tokens, valid, inputs, target)
        aux, aux_metrics = self.localization_loss(feats, inputs["target_uv"])
        guess = self.offset_readout(target[:, 0])  # (B, 3) decimetres
        offset_loss = (guess - inputs["target_offset"] * 10.0).abs().mean()
        aux_metrics["offset_err_cm"] = float(
            (guess.detach() * 10.0 - inputs["target_offset"] * 100.0).norm(dim=-1).mean()
        )
        total = loss + self.cfg.localize * (aux + offset_loss)
        return total, {**metrics, "policy_loss": float(loss.detach()), **aux_metrics}

    def _policy_loss(
        self,
        tokens: torch.Tensor,
        valid: torch.Tensor,
        inputs: dict[str, Any],
        target: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The action loss (plus the trace loss for a reasoning model) from the input tokens;
        ``target``: the target token float[B, 1, D] of a localizing model, read by the head too."""
        if self.trace is None:
            readouts, memory, memory_valid = self.mix(tokens, valid)
            return self.head.loss(_with(readouts, target), memory, memory_valid, inputs)
        truth = inputs["trace"]  # (B, 7)
        _, memory, memory_valid = self.mix(tokens, valid)
        logits = self.trace.logits(truth, memory, memory_valid)  # (B, 7, V)
        trace_loss = F.cross_entropy(logits.flatten(0, 1), truth.flatten())
        own = logits.detach().argmax(-1)  # (B, 7) the decoder's own (teacher-forced) trace
        share = self.cfg.reasoning.self_condition if self.training else 0.0
        use_own = torch.rand(truth.shape[0], 1, device=truth.device) < share  # (B, 1)
        readouts, memory, memory_valid = self.mix(
            *self.with_trace(tokens, valid, torch.where(use_own, own, truth))
        )
        action_loss, metrics = self.head.loss(_with(readouts, target), memory, memory_valid, inputs)
        hits = (own == truth).float().mean(0)  # (7,) per-field accuracy
        metrics = {**metrics, "action_loss": float(action_loss.detach()), "trace_loss": float(trace_loss.detach()),
                   "trace_acc": float(hits.mean()), "trace_target_acc": float(hits[0])}  # fmt: skip
        return action_loss + trace_loss, metrics

    @torch.no_grad()
    def sample(
        self,
        inputs: dict[str, Any],
        generator: torch.Generator | None = None,
        trace: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """-> (normalized chunks float[B, H, A] or token ids long[B, L] (discrete heads), the trace
        long[B, 7] or None, where the localizing keypoint sits float[B, C, 2] or None).
        ``trace``: reuse this trace instead of generating one; ``noise`` float[B, H, A]: the starting
        noise of a flow or diffusion head (default: drawn from ``generator``)."""
        tokens, valid, feats = self.perceive_with_features(inputs)
        looking = self.target_keypoints(feats.float()) if self.cfg.localize else None
        target = self.located_target(feats, inputs["state"]) if self.target_token is not None else None
        if self.trace is not None:
            if trace is None:
                trace = self.trace.generate(*self.mix(tokens, valid)[1:])  # (B, 7)
            tokens, valid = self.with_trace(tokens, valid, trace)
        readouts, memory, memory_valid = self.mix(tokens, valid)
        if noise is None:
            chunks = self.head.sample(_with(readouts, target), memory, memory_valid, generator=generator)
        else:
            chunks = self.head.sample(_with(readouts, target), memory, memory_valid, noise=noise)
        return chunks, trace, looking

    @torch.no_grad()
    def generate_trace(self, inputs: dict[str, Any]) -> torch.Tensor:
        """The trace long[B, 7] that :meth:`sample` would generate for ``inputs``."""
        if self.trace is None:
            raise ValueError("this VLA was trained without reasoning: it generates no trace")
        tokens, valid = self.perceive(inputs)
        return self.trace.generate(*self.mix(tokens, valid)[1:])  # (B, 7)


def _with(readouts: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """The head's readouts float[B, R, D], plus the target token float[B, 1, D] when there is one."""
    return readouts if target is None else torch.cat([readouts, target], dim=1)


@register_policy("vla")
class VLAPolicy(BasePolicy):
    """The flat VLA policy (see the module docstring).

    ``compute_loss(batch)`` takes a loader batch (``hivla.types`` naming, optionally with cached
    ``features.vision``); ``sample_actions(obs)`` takes a raw env observation, batched or not, and
    returns unnormalized float32[B, H, A] in the policy's action space (``action_space``):
    native actions of ``embodiments[0]``, or universal actions to map with
    ``env.from_universal`` (``hivla.types``). ``forward`` is ``compute_loss`` (for DDP).
    """

    config_cls = VLAConfig
    processor_cls = VLAProcessor

    def __init__(self, config: VLAConfig, processor: VLAProcessor) -> None:
        super().__init__(config, processor)
        vocab = processor.tokenizer.vocab_size if processor.tokenizer is not None else 0
        length = processor.token_length if processor.tokenizer is not None else 0
        self.model = VLAModel(config, vocab, length, processor.trace_vocab)
        self.reasoning_every = config.reasoning.every
        self._trace: torch.Tensor | None = None
        self._trace_key: tuple[str, ...] | None = None
        self._trace_age = 0
        self.trace_generations = self.trace_calls = 0
        self.last_reasoning: str | None = None
        self.last_looking_at: dict[str, tuple[float, float]] | None = None
        self.trace_source: TraceSource | None = None

    def compute_loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        inputs = self.processor.prepare_batch(batch, device=self.device, train=self.training)
        loss, metrics = self.model.loss(inputs)
        return loss, {"loss": float(loss.detach()), **metrics}

    @torch.no_grad()
    def sample_actions(
        self,
        obs: dict[str, Any],
        embodiment: str | list[str] | None = None,
        generator: torch.Generator | None = None,
    ) -> np.ndarray:
        inputs, embs = self.processor.prepare_obs(obs, embodiment, device=self.device)
        reuse = self._reusable_trace(inputs["texts"])
        given = self._sourced_trace(obs, inputs) if reuse is None else reuse
        out, trace, looking = self.model.sample(inputs, generator=generator, trace=given)
        if looking is not None:
            self.last_looking_at = dict(zip(self.config.cameras, looking[0].tolist(), strict=True))
        if trace is not None:
            self._remember_trace(trace, inputs["texts"], reused=reuse is not None)
        normalized = (
            self.processor.decode_tokens(out) if self.config.head.discrete else out.float().cpu().numpy()
        )
        return self.processor.unnormalize_actions(normalized, embs)

    # -- reasoning traces ----------------------------------------------------------------------------
    def set_reasoning_reuse(self, every: int) -> None:
        """Regenerate the trace every ``every``-th call (1: always; 0: only when the instruction changes)."""
        if every < 0:
            raise ValueError(f"reasoning reuse must be >= 0 (0: only on a new instruction), got {every}")
        self.reasoning_every = every

    def set_trace_source(self, source: TraceSource | None) -> None:
        """Replace every new trace (the reuse schedule is kept) by ``source(obs, generated) -> Trace``:
        ``generated`` is the trace the policy would have used, ``obs`` the unbatched observation; e.g.
        the expert's annotation at this state (oracle substitution). None restores generation.
        Raises ValueError for a policy trained without reasoning."""
        if source is not None and self.model.trace is None:
            raise ValueError(
                "set_trace_source needs a VLA trained with reasoning (reasoning.enabled); this one "
                "generates no trace"
            )
        self.trace_source = source

    def _sourced_trace(self, obs: dict[str, Any], inputs: dict[str, Any]) -> torch.Tensor | None:
        """The trace long[1, 7] the source gives for this query, or None (no source: generate)."""
        if self.trace_source is None:
            return None
        generated = self.model.generate_trace(inputs)  # (B, 7)
        if generated.shape[0] != 1:
            raise ValueError(
                f"a trace source takes one observation at a time, got a batch of {generated.shape[0]}"
            )
        vocab = self.processor.trace_vocab
        trace = self.trace_source(obs, vocab.decode(generated[0].cpu().numpy()))
        return torch.from_numpy(vocab.encode(trace))[None].to(generated.device)  # (1, 7)

    def _reusable_trace(self, texts: list[str]) -> torch.Tensor | None:
        if self._trace is None or self._trace_key != tuple(texts):
            return None
        if self.reasoning_every and self._trace_age >= self.reasoning_every:
            return None
        return self._trace

    def _remember_trace(self, trace: torch.Tensor, texts: list[str], reused: bool) -> None:
        self.trace_calls += 1
        if not reused:
            self.trace_generations += 1
            self._trace, self._trace_key, self._trace_age = trace, tuple(texts), 0
            vocab = self.processor.trace_vocab
            self.last_reasoning = describe_trace(texts[0], vocab.decode(trace[0].cpu().numpy()))
        self._trace_age += 1

    @property
    def reasoning(self) -> str | None:
        """The latest trace in words (first row of the batch), None for a policy without reasoning."""
        return self.last_reasoning

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        """Where the latest query located its target in each camera, ``{camera: (u, v)}`` (-1..1
        across the image, first row of the batch); None for a policy trained without ``localize``."""
        return self.last_looking_at

    def reset(self) -> None:
        self._trace, self._trace_key, self._trace_age = None, None, 0
        self.last_reasoning = None
        self.last_looking_at = None

    def frozen_prefixes(self) -> tuple[str, ...]:
        return tuple(f"model.{p}" for p in self.model.frozen_prefixes())

    @property
    def vision_frozen(self) -> bool:
        return self.model.vision_frozen

    @torch.no_grad()
    def encode_frozen(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The cacheable features of a loader batch: ``features.vision`` (and its valid mask)."""
        images = self.processor._batch_images(batch).to(self.device)
        feats, valid = self.model.vision_features(images, self.processor.batch_texts(batch))
        return {"features.vision": feats, "features.vision_valid": valid}
