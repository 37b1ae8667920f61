"""The VLA processor: raw observations or dataset batches -> model inputs, model outputs -> actions.

The same steps run in training and serving (CONTRIBUTING.md, "Conventions"), and none mutates its input:
images to float [0, 1] at ``image_size``, state normalized per embodiment (mean/std) and
zero-padded to ``state_dim``, actions normalized to [-1, 1] by their q01/q99 (per embodiment for
native actions, one range for universal actions), token ids for discrete heads. The statistics
and the tokenizer are checkpoint assets (``assets/processor.json``, ``assets/tokenizer/``).

Observations may be unbatched (the env's dict: ``images[cam]`` uint8[H, W, 3], ``state``
float[S], ``instruction`` str) or batched (uint8[B, H, W, 3], float[B, S], list[str]);
``sample_actions`` returns float32[B, H, A] either way (B = 1 when unbatched).

With ``depth`` each camera's depth (``obs["depth"][cam]`` float[H, W] metres, or the loader's
``observation.depth.<cam>``) becomes a fourth image channel (:func:`depth_channel`) or, with
``depth_encoder='points'``, a world point cloud per camera (:func:`depth_points`, with the camera's
intrinsics and pose: ``obs["camera_params"]`` or the loader's camera columns); with ``contact``
the touch readings (``obs["contact"]`` float[10], or ``observation.contact``) go to the model as
``inputs["contact"]`` (:func:`contact_features`). Both are fixed transforms, so they need no
statistics and training and serving agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hivla.checkpoints import CheckpointFormat
from hivla.policies.vla.configuration_vla import VLAConfig
from hivla.policies.vla.reasoning import TraceVocab
from hivla.transforms.image import drop_cameras, jitter_colour
from hivla.transforms.normalize import from_unit_range, standardize, to_unit_range
from hivla.transforms.paraphrase import paraphrase_texts
from hivla.types import SHARED_STATE_NAMES

FORMAT_VERSION = 1
STATS_FILE = "processor.json"
DEPTH_RANGE = 2.0  # metres: depth beyond is clipped (the table and objects lie within 1.5 m)
TOKENIZER_DIR = "tokenizer"
SHARED_STATE_DIM = len(SHARED_STATE_NAMES)
SHARED_KEY = "shared"  # the statistics key of the shared proprioception (VLAConfig.proprio)
MASKED_HEADS = ("flow", "diffusion", "l1", "bins")  # heads whose loss can skip padded action dims
PROCESSOR_FORMAT = CheckpointFormat(
    "hivla.vla_processor", FORMAT_VERSION, STATS_FILE, "VLA processor asset", "`VLAProcessor.save`"
)


@dataclass(frozen=True)
class FitData:
    """What the processor learns from: per embodiment its states float[N, S] and action chunks
    float[M, H, A] in the policy's action space (under key ``"universal"`` for universal actions);
    for a reasoning policy, the distinct reasoning strings of the data (the trace vocabulary).

    ``action_widths``: when universal actions of several widths train together (fixed bodies' 7
    values, a wheeled body's 10), each embodiment's own width; the chunks are then padded to the
    widest with NaN, so that the statistics of a dimension come only from the bodies that have it."""

    states: dict[str, np.ndarray]
    chunks: dict[str, np.ndarray]
    reasoning: tuple[str, ...] = ()
    action_widths: dict[str, int] = field(default_factory=dict)


def _stats_vector(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


class VLAProcessor:
    """Holds the normalization statistics (and the tokenizer for discrete heads) of one policy."""

    def __init__(self, config: VLAConfig, stats: dict[str, Any], tokenizer: Any = None) -> None:
        if not config.resolved:
            raise ValueError("VLAProcessor needs a config with embodiments, state_dim and action_dim set")
        self.config = config
        self.stats = stats
        self.tokenizer = tokenizer
        self._state = {
            e: (np.asarray(s["mean"], np.float32), np.asarray(s["std"], np.float32))
            for e, s in stats["state"].items()
        }
        self._action = {
            k: (np.asarray(a["low"], np.float32), np.asarray(a["high"], np.float32))
            for k, a in stats["action"].items()
        }
        self.action_widths: dict[str, int] = {e: int(w) for e, w in stats.get("action_widths", {}).items()}
        if self.action_widths and config.head.kind not in MASKED_HEADS:
            raise ValueError(
                f"head {config.head.kind!r} cannot train on universal actions of mixed widths "
                f"{self.action_widths}; the heads that mask padded action dimensions: {', '.join(MASKED_HEADS)}"
            )
        if config.head.discrete and tokenizer is None:
            raise ValueError(f"head {config.head.kind!r} needs a fitted tokenizer (VLAProcessor.fit)")
        self.trace_vocab: TraceVocab | None = None
        if config.reasoning.enabled:
            if "reasoning" not in stats:
                raise ValueError(
                    "a reasoning policy needs its trace vocabulary (VLAProcessor.fit with reasoning)"
                )
            self.trace_vocab = TraceVocab.from_dict(stats["reasoning"])

    # -- fitting ------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, config: VLAConfig, data: FitData) -> VLAProcessor:
        """Statistics (and tokenizer) from the training data; ``config`` must be resolved."""
        lo_q, hi_q = config.action_quantiles
        state = {}
        states = data.states
        if config.proprio == "shared":  # one set of statistics over every body's shared part
            states = {
                SHARED_KEY: np.concatenate([np.asarray(a)[:, :SHARED_STATE_DIM] for a in states.values()])
            }
        for emb, arr in states.items():
            arr = np.asarray(arr, np.float64)
            state[emb] = {
                "mean": _stats_vector(arr.mean(0)),
                "std": _stats_vector(np.maximum(arr.std(0), 1e-3)),
            }
        action = {}
        for key, chunks in data.chunks.items():
            flat = np.asarray(chunks, np.float64).reshape(-1, config.action_dim)  # (M*H, A)
            quantile = np.nanquantile if np.isnan(flat).any() else np.quantile  # NaN: a padded dimension
            low, high = quantile(flat, lo_q, axis=0), quantile(flat, hi_q, axis=0)
            high = np.where(high - low < 1e-6, low + 1e-6, high)  # constant dims map to -1
            action[key] = {"low": _stats_vector(low), "high": _stats_vector(high)}
        stats: dict[str, Any] = {"state": state, "action": action}
        if data.action_widths:
            stats["action_widths"] = {e: int(w) for e, w in sorted(data.action_widths.items())}
        if config.reasoning.enabled:
            if not data.reasoning:
                raise ValueError(
                    "reasoning is enabled but the data has no 'reasoning' strings; record the dataset "
                    "with `hivla collect` (the expert writes one per step) or disable reasoning"
                )
            stats["reasoning"] = TraceVocab.fit(list(data.reasoning)).to_dict()
        tokenizer = None
        if config.head.discrete:
            proc = cls.__new__(cls)
            proc._action = {k: (np.asarray(a["low"]), np.asarray(a["high"])) for k, a in action.items()}
            proc.config = config
            normalized = np.concatenate(
                [proc._normalize_actions(np.asarray(c, np.float32), k) for k, c in data.chunks.items()]
            )
            normalized = np.nan_to_num(normalized)  # padded dimensions: 0, as in training (prepare_batch)
            tokenizer = _fit_tokenizer(config, normalized)
        return cls(config, stats, tokenizer)

    # -- keys ---------------------------------------------------------------------------------------
    def action_stats_key(self, embodiment: str) -> str:
        return "universal" if self.config.action_space == "universal" else embodiment

    def _embodiment_list(self, given: Any, batch: int) -> list[str]:
        embs = self.config.embodiments
        if given is None and self.config.any_embodiment:
            return [embs[0]] * batch  # the shared proprioception reads every body alike
        if given is None:
            if len(embs) > 1:
                raise ValueError(
                    f"this policy was trained on embodiments {embs}: pass embodiment=<name> "
                    "(or an 'embodiment' key in the observation/batch)"
                )
            return [embs[0]] * batch
        names = [given] * batch if isinstance(given, str) else [str(e) for e in given]
        unknown = sorted(set(names) - set(embs))
        if unknown and not self.config.any_embodiment:
            raise ValueError(f"embodiments {unknown} were not seen in training; this policy knows {embs}")
        return names

    # -- state and actions --------------------------------------------------------------------------
    def normalize_state(self, state: torch.Tensor, embodiments: list[str]) -> torch.Tensor:
        """float[B, S_e] in units -> float[B, state_dim] normalized and zero-padded."""
        out = torch.zeros(state.shape[0], self.config.state_dim, dtype=torch.float32)
        shared = self.config.proprio == "shared"
        for i, emb in enumerate(embodiments):
            mean, std = self._state[SHARED_KEY if shared else emb]
            s = state[i, : mean.shape[0]].detach().cpu().float()
            if s.shape[0] != mean.shape[0]:
                raise ValueError(
                    f"state for {emb} has {state.shape[1]} values; the policy was trained on {mean.shape[0]}"
                )
            out[i, : mean.shape[0]] = standardize(s, mean, std)
        return out

    def _normalize_actions(self, actions: np.ndarray, key: str) -> np.ndarray:
        low, high = self._action[key]
        return to_unit_range(actions, low, high).astype(np.float32)

    def unnormalize_actions(self, normalized: np.ndarray, embodiments: list[str]) -> np.ndarray:
        """float[B, H, A] in [-1, 1] -> float32[B, H, A] in action units."""
        out = np.empty_like(normalized, dtype=np.float32)
        for i, emb in enumerate(embodiments):
            low, high = self._action[self.action_stats_key(emb)]
            out[i] = from_unit_range(normalized[i], low, high)
        return out

    def embodiment_ids(self, embodiments: list[str], device: torch.device | str = "cpu") -> torch.Tensor:
        """long[B]: each row's index in ``config.embodiments`` (0 for all with the shared proprioception)."""
        if self.config.proprio == "shared":
            return torch.zeros(len(embodiments), dtype=torch.long, device=device)
        return torch.tensor([self.config.embodiments.index(e) for e in embodiments], device=device)

    def dim_valid(self, embodiments: list[str]) -> np.ndarray | None:
        """bool[B, A]: the action dimensions each row's body has (mixed universal widths), else None."""
        if not self.action_widths:
            return None
        dims = np.arange(self.config.action_dim)  # (A,)
        widths = [self.action_widths.get(e, self.config.action_dim) for e in embodiments]
        return dims[None, :] < np.asarray(widths)[:, None]  # (B, A)

    def tokens(
        self, normalized: np.ndarray, pad: np.ndarray, dim_valid: np.ndarray | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalized chunks float[B, H, A] -> (ids long[B, L], valid bool[B, L]) with specials.
        ``dim_valid`` bool[B, A]: the bins head's tokens of padded dimensions leave the loss (mixed
        widths only reach here with a head of ``MASKED_HEADS``: ``__init__`` refuses the others)."""
        tok, head = self.tokenizer, self.config.head
        vocab, length = tok.vocab_size, self.token_length
        eos, pad_id = vocab + 1, vocab + 2
        ids = np.full((normalized.shape[0], length), pad_id, dtype=np.int64)
        valid = np.zeros((normalized.shape[0], length), dtype=bool)
        adim = self.config.action_dim
        for i, chunk in enumerate(normalized):
            seq = tok.encode(np.clip(chunk, -1.0, 1.0))
            if head.mode == "autoregressive":
                seq = np.concatenate([seq[: length - 1], [eos]])
            ids[i, : len(seq)] = seq
            valid[i, : len(seq)] = True
            if head.kind == "bins":  # token j belongs to step j // A: drop padded steps from the loss
                steps = np.arange(length) // adim
                valid[i] &= ~pad[i][np.minimum(steps, pad.shape[1] - 1)] | (steps >= pad.shape[1])
                if dim_valid is not None:  # ... and dimension j % A: drop padded dimensions
                    valid[i] &= dim_valid[i][np.arange(length) % adim] | (steps >= pad.shape[1])
        return torch.from_numpy(ids), torch.from_numpy(valid)

    @property
    def token_length(self) -> int:
        head, cfg = self.config.head, self.config
        if head.kind == "bins":
            return cfg.horizon * cfg.action_dim + (1 if head.mode == "autoregressive" else 0)
        return head.max_tokens

    def decode_tokens(self, ids: torch.Tensor) -> np.ndarray:
        """long[B, L] (specials included) -> normalized float32[B, H, A]."""
        vocab = self.tokenizer.vocab_size
        out = []
        for row in ids.cpu().numpy():
            stop = np.flatnonzero(row == vocab + 1)
            row = row[: stop[0]] if len(stop) else row
            out.append(self.tokenizer.decode(row[row < vocab]))
        return np.stack(out).astype(np.float32)

    # -- images -------------------------------------------------------------------------------------
    def _images(self, per_cam: list[torch.Tensor]) -> torch.Tensor:
        """Per camera float[B, Ch, H, W] in [0, 1] -> float[B, C, Ch, s, s]."""
        return resize_images(per_cam, self.config.image_size)

    # -- batches ------------------------------------------------------------------------------------
    def prepare_batch(
        self, batch: dict[str, Any], device: torch.device | str = "cpu", train: bool = False
    ) -> dict[str, Any]:
        """A loader batch (``hivla.types`` naming) -> model inputs with normalized targets (new dict).

        ``train`` turns on the augmentations (:meth:`augment_images`, ``paraphrase``)."""
        cfg = self.config
        texts = self.batch_texts(batch)
        if train and cfg.paraphrase > 0:
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, ())))  # follows torch's seed
            texts = paraphrase_texts(texts, cfg.paraphrase, rng)
        size = len(texts)
        embs = self._embodiment_list(batch.get("embodiment"), size)
        inputs: dict[str, Any] = {"texts": texts}
        if "features.vision" in batch:
            inputs["features.vision"] = batch["features.vision"].to(device).float()
            if "features.vision_valid" in batch:
                inputs["features.vision_valid"] = batch["features.vision_valid"].to(device).bool()
        else:
            images = self._batch_images(batch)
            moved = torch.zeros(images.shape[0], images.shape[1], 2)  # (B, C, 2) content shift, px
            kept = torch.ones(images.shape[:2], dtype=torch.bool)  # (B, C) cameras not blanked
            if train:
                images, moved, kept = self.augment_images(images)
            inputs["images"] = images.to(device)
            if cfg.localize:
                inputs["target_uv"] = self.target_uv(batch, moved, images.shape[-1], kept).to(device)
                inputs["target_offset"] = self.target_offset(batch).to(device)
        state = batch["observation.state"]
        state = state[:, -1] if state.ndim == 3 else state  # (B, S): the latest frame
        inputs["state"] = self.normalize_state(state, embs).to(device)
        if cfg.contact:
            inputs["contact"] = self.batch_contact(batch).to(device)
        if cfg.depth_points:
            inputs["points"], inputs["points_valid"] = (t.to(device) for t in self.batch_points(batch))
        inputs["embodiment_id"] = self.embodiment_ids(embs, device)
        if cfg.action_key not in batch:
            raise KeyError(
                f"batch has no {cfg.action_key!r} (action_space={cfg.action_space!r}); keys: {sorted(batch)}"
            )
        actions = torch.nan_to_num(batch[cfg.action_key].detach().cpu().float()).numpy()  # (B, H, A)
        if self.action_widths and actions.shape[-1] < cfg.action_dim:  # a batch of narrow bodies only
            actions = np.pad(actions, ((0, 0), (0, 0), (0, cfg.action_dim - actions.shape[-1])))  # (B, H, A)
        if actions.shape[1:] != (cfg.horizon, cfg.action_dim):
            raise ValueError(
                f"{cfg.action_key} has shape {tuple(actions.shape)}; this policy expects [B, {cfg.horizon}, "
                f"{cfg.action_dim}] (check the loader's chunk size)"
            )
        pad = batch.get("action_is_pad")
        pad = np.zeros(actions.shape[:2], bool) if pad is None else pad.detach().cpu().numpy().astype(bool)
        normalized = np.stack(
            [self._normalize_actions(a, self.action_stats_key(e)) for a, e in zip(actions, embs, strict=True)]
        )
        mask = ~pad  # (B, H)
        dim_valid = self.dim_valid(embs)  # (B, A) or None
        if dim_valid is not None:  # mixed universal widths: padded dimensions leave the loss
            normalized = np.where(dim_valid[:, None, :], normalized, 0.0).astype(np.float32)
            mask = mask[:, :, None] & dim_valid[:, None, :]  # (B, H, A)
        inputs["actions"] = torch.from_numpy(normalized).to(device)
        inputs["mask"] = torch.from_numpy(mask).to(device)
        if cfg.head.discrete:
            ids, valid = self.tokens(normalized, pad, dim_valid)
            inputs["tokens"], inputs["token_mask"] = ids.to(device), valid.to(device)
        if self.trace_vocab is not None:
            if "reasoning" not in batch:
                raise KeyError(
                    f"a reasoning policy trains on the batch's 'reasoning' strings; keys: {sorted(batch)}"
                )
            inputs["trace"] = self.trace_vocab.encode_texts([str(t) for t in batch["reasoning"]]).to(device)
        return inputs

    def augment_images(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The training augmentations of the config, in order: random shift (``augment_shift``),
        colour jitter (``augment_colour``, RGB channels), camera dropout (``camera_dropout``), each drawn
        per sample and camera from torch's global generator. ``images`` float[B, C, Ch, s, s] (Ch = 3,
        or 4 with depth, which moves and blanks with its image) is not modified.

        -> (images float[B, C, Ch, s, s], content shift float[B, C, 2] in px, kept bool[B, C])."""
        cfg = self.config
        moved = torch.zeros(images.shape[0], images.shape[1], 2)  # (B, C, 2)
        kept = torch.ones(images.shape[:2], dtype=torch.bool)  # (B, C)
        if cfg.augment_shift > 0:
            images, moved = random_shift(images, cfg.augment_shift)
        if cfg.augment_colour > 0:  # colour of the RGB channels only (depth has none)
            rgb = jitter_colour(images[:, :, :3], cfg.augment_colour)
            images = torch.cat([rgb, images[:, :, 3:]], dim=2) if images.shape[2] > 3 else rgb
        if cfg.camera_dropout > 0:
            images, kept = drop_cameras(images, cfg.camera_dropout)
        return images, moved, kept

    def target_uv(
        self, batch: dict[str, Any], moved: torch.Tensor, size: int, kept: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The localization labels of a batch, float[B, C, 3] (u, v, visible) for this policy's cameras,
        moved with the augmentation's content shift ``moved`` float[B, C, 2] (pixels, at ``size`` px);
        a camera blanked by the dropout (``kept`` bool[B, C] False) shows no target."""
        from hivla.types import CAMERAS

        key = "annotation.target_uv"
        if key not in batch:
            raise KeyError(
                f"localize > 0 trains on the batch's {key!r} (where the target is in each image); keys: "
                f"{sorted(batch)}. Record the dataset with `hivla collect` (the built-in suites label it) or set "
                "localize=0 (`hivla train --localize 0`, e.g. on an external benchmark's data)"
            )
        labels = batch[key].detach().cpu().float()
        labels = labels[:, -1] if labels.ndim == 3 else labels  # (B, 3 * len(CAMERAS))
        if labels.ndim != 2 or labels.shape[1] != 3 * len(CAMERAS):
            raise ValueError(f"{key} must be float[B, {3 * len(CAMERAS)}], got {tuple(labels.shape)}")
        labels = labels.reshape(len(labels), len(CAMERAS), 3)[
            :, [CAMERAS.index(c) for c in self.config.cameras]
        ]
        uv = labels[..., :2] + moved * (2.0 / size)  # (B, C, 2)
        inside = (uv.abs() <= 1.0).all(-1, keepdim=True).float()  # (B, C, 1)
        if kept is not None:
            inside = inside * kept[..., None].float()  # (B, C, 1)
        return torch.cat([uv.clamp(-1.0, 1.0), labels[..., 2:] * inside], dim=-1)  # (B, C, 3)

    def target_offset(self, batch: dict[str, Any]) -> torch.Tensor:
        """The target's offset from the hand in metres, float[B, 3] (world frame: forward, left, up),
        read from the expert's reasoning strings (1 cm resolution)."""
        from hivla.policies.vla.reasoning import parse_reasoning

        if "reasoning" not in batch:
            raise KeyError(
                f"localize > 0 trains on where the target is relative to the hand, read from the batch's "
                f"'reasoning' strings; keys: {sorted(batch)}. Record the dataset with `hivla collect`"
            )
        offsets = [parse_reasoning(str(text)).offset_cm for text in batch["reasoning"]]
        return torch.tensor(offsets, dtype=torch.float32) / 100.0  # (B, 3)

    def batch_texts(self, batch: dict[str, Any]) -> list[str]:
        """The language input of a loader batch: its ``language_key`` column (task or subtask)."""
        key = self.config.language_key
        if key not in batch:
            raise KeyError(
                f"batch has no {key!r} strings (language_key={key!r}); keys: {sorted(batch)}. "
                "Datasets recorded by `hivla collect` have both 'task' and 'subtask'."
            )
        return [str(t) for t in batch[key]]

    def _batch_images(self, batch: dict[str, Any]) -> torch.Tensor:
        per_cam = []
        for cam in self.config.cameras:
            key = f"observation.images.{cam}"
            if key not in batch:
                raise KeyError(f"batch has no {key!r}; this policy reads cameras {self.config.cameras}")
            img = batch[key]
            img = img[:, -1] if img.ndim == 5 else img  # (B, 3, H, W): the latest frame
            img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
            if self.config.depth_channel:
                dkey = f"observation.depth.{cam}"
                if dkey not in batch:
                    raise KeyError(
                        f"batch has no {dkey!r}, which a depth policy reads; keys: {sorted(batch)}. Record the "
                        "dataset with `hivla collect --sensors depth` or train with depth off"
                    )
                depth = batch[dkey]
                depth = depth[:, -1] if depth.ndim == 5 else depth  # (B, 1, H, W) metres
                img = torch.cat([img, depth_channel(depth.float())], dim=1)  # (B, 4, H, W)
            per_cam.append(img)
        return self._images(per_cam)

    def batch_points(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The world point clouds of a loader batch: (float[B, C, N, 3], valid bool[B, C, N])."""
        clouds = []
        for cam in self.config.cameras:
            keys = [f"observation.{k}.{cam}" for k in ("depth", "camera_pose", "camera_intrinsics")]
            missing = [k for k in keys if k not in batch]
            if missing:
                raise KeyError(
                    f"batch has no {missing}, which a point-cloud policy reads; keys: {sorted(batch)}. Record the "
                    "dataset with `hivla collect --sensors depth` or train with depth off"
                )
            depth, pose, k = (batch[key].float() for key in keys)
            depth = depth[:, -1] if depth.ndim == 5 else depth  # (B, 1, H, W)
            pose = pose[:, -1] if pose.ndim == 4 else pose  # (B, 4, 4)
            clouds.append(depth_points(depth[:, 0], k, pose, self.config.point_samples))
        return torch.stack([c[0] for c in clouds], 1), torch.stack([c[1] for c in clouds], 1)

    def batch_contact(self, batch: dict[str, Any]) -> torch.Tensor:
        """The touch input of a loader batch, float[B, 10] (:func:`contact_features`)."""
        key = "observation.contact"
        if key not in batch:
            raise KeyError(
                f"batch has no {key!r}, which a contact policy reads; keys: {sorted(batch)}. Record the "
                "dataset with `hivla collect --sensors contact` or train with contact off"
            )
        contact = batch[key]
        contact = contact[:, -1] if contact.ndim == 3 else contact  # (B, 10): the latest frame
        return contact_features(contact.float())

    def prepare_obs(
        self,
        obs: dict[str, Any],
        embodiment: str | list[str] | None = None,
        device: torch.device | str = "cpu",
    ) -> tuple[dict[str, Any], list[str]]:
        """A raw env observation (batched or not) -> (model inputs, embodiment per row)."""
        images = obs.get("images")
        if not isinstance(images, dict):
            raise ValueError("observation needs 'images': {camera: uint8[H, W, 3] or uint8[B, H, W, 3]}")
        per_cam = []
        for cam in self.config.cameras:
            if cam not in images:
                raise KeyError(
                    f"observation has no image {cam!r}; this policy reads cameras {self.config.cameras}"
                )
            img = torch.as_tensor(np.asarray(images[cam]))
            img = img[None] if img.ndim == 3 else img  # (B, H, W, 3)
            if img.ndim != 4 or img.shape[-1] != 3:
                raise ValueError(
                    f"image {cam!r} must be uint8[H, W, 3] or [B, H, W, 3], got {tuple(img.shape)}"
                )
            img = img.permute(0, 3, 1, 2).float() / 255.0  # (B, 3, H, W)
            if self.config.depth_channel:
                img = torch.cat([img, depth_channel(self._obs_depth(obs, cam))], dim=1)  # (B, 4, H, W)
            per_cam.append(img)
        state = torch.as_tensor(np.asarray(obs["state"], dtype=np.float32))
        state = state[None] if state.ndim == 1 else state  # (B, S)
        texts = obs.get("instruction", "")
        texts = [texts] * state.shape[0] if isinstance(texts, str) else [str(t) for t in texts]
        embs = self._embodiment_list(
            embodiment if embodiment is not None else obs.get("embodiment"), len(texts)
        )
        inputs = {
            "images": self._images(per_cam).to(device),
            "texts": texts,
            "state": self.normalize_state(state, embs).to(device),
            "embodiment_id": self.embodiment_ids(embs, device),
        }
        if self.config.depth_points:
            clouds = [self._obs_points(obs, cam) for cam in self.config.cameras]
            inputs["points"] = torch.stack([c[0] for c in clouds], 1).to(device)  # (B, C, N, 3)
            inputs["points_valid"] = torch.stack([c[1] for c in clouds], 1).to(device)  # (B, C, N)
        if self.config.contact:
            if "contact" not in obs:
                raise KeyError(
                    "observation has no 'contact', which this policy reads: make the env with sensors=('contact',)"
                )
            contact = torch.as_tensor(np.asarray(obs["contact"], dtype=np.float32))
            inputs["contact"] = contact_features(contact[None] if contact.ndim == 1 else contact).to(device)
        return inputs, embs

    def _obs_points(self, obs: dict[str, Any], cam: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A camera's world point cloud from an env observation: (float[B, N, 3], valid bool[B, N])."""
        params = obs.get("camera_params", {}).get(cam)
        if params is None:
            raise KeyError(
                f"observation has no camera_params for camera {cam!r}, which a point-cloud policy reads: make "
                "the env with sensors=('depth',)"
            )
        depth = self._obs_depth(obs, cam)[:, 0]  # (B, H, W)
        k, pose = (
            torch.as_tensor(np.asarray(params[n], dtype=np.float32)) for n in ("intrinsics", "extrinsics")
        )
        k = k.expand(depth.shape[0], 3, 3) if k.ndim == 2 else k  # (B, 3, 3)
        pose = pose.expand(depth.shape[0], 4, 4) if pose.ndim == 2 else pose  # (B, 4, 4)
        return depth_points(depth, k, pose, self.config.point_samples)

    def _obs_depth(self, obs: dict[str, Any], cam: str) -> torch.Tensor:
        """``obs["depth"][cam]`` float[H, W] or [B, H, W] metres -> float[B, 1, H, W]."""
        if cam not in obs.get("depth", {}):
            raise KeyError(
                f"observation has no depth for camera {cam!r}, which this policy reads: make the env with "
                "sensors=('depth',)"
            )
        depth = torch.as_tensor(np.asarray(obs["depth"][cam], dtype=np.float32))
        depth = depth[None] if depth.ndim == 2 else depth  # (B, H, W)
        return depth[:, None]  # (B, 1, H, W)

    # -- assets -------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        out = Path(path)
        PROCESSOR_FORMAT.write_meta(out, self.stats)
        if self.tokenizer is not None:
            self.tokenizer.save(out / TOKENIZER_DIR)
        return out

    @classmethod
    def load(cls, config: VLAConfig, path: str | Path) -> VLAProcessor:
        meta = PROCESSOR_FORMAT.read_meta(path)
        tokenizer = None
        if config.head.discrete:
            from hivla.actions import load_tokenizer

            tokenizer = load_tokenizer(Path(path) / TOKENIZER_DIR)
        stats = {k: meta[k] for k in ("state", "action", "reasoning", "action_widths") if k in meta}
        return cls(config, stats, tokenizer)


def depth_channel(depth: torch.Tensor) -> torch.Tensor:
    """Depth in metres float[B, 1, H, W] -> the CNN's depth channel in [0, 1]: clipped to
    ``DEPTH_RANGE`` and scaled (non-finite depth counts as far)."""
    depth = torch.nan_to_num(depth, nan=DEPTH_RANGE, posinf=DEPTH_RANGE, neginf=0.0)
    return depth.clamp(0.0, DEPTH_RANGE) / DEPTH_RANGE  # (B, 1, H, W)


def depth_points(
    depth: torch.Tensor, intrinsics: torch.Tensor, pose: torch.Tensor, samples: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``samples`` evenly spread pixels of depth maps float[B, H, W] (metres) back-projected to world
    points with intrinsics float[B, 3, 3] and camera-to-world poses float[B, 4, 4] (OpenCV camera frame,
    as :func:`hivla.sim.camera_geometry.depth_to_points`) -> (points float[B, N, 3], valid bool[B, N]:
    finite depth within ``DEPTH_RANGE``)."""
    batch, h, w = depth.shape
    idx = torch.linspace(0, h * w - 1, samples).round().long()  # (N,) flat pixel indices
    v, u = (idx // w).float(), (idx % w).float()  # (N,) rows, columns
    z = depth.reshape(batch, -1)[:, idx]  # (B, N)
    valid = torch.isfinite(z) & (z > 0) & (z < DEPTH_RANGE)
    z = torch.where(valid, z, torch.zeros_like(z))
    x = (u - intrinsics[:, 0, 2:3]) / intrinsics[:, 0, 0:1] * z  # (B, N)
    y = (v - intrinsics[:, 1, 2:3]) / intrinsics[:, 1, 1:2] * z  # (B, N)
    cam = torch.stack([x, y, z], dim=-1)  # (B, N, 3) camera frame
    world = cam @ pose[:, :3, :3].transpose(1, 2) + pose[:, None, :3, 3]  # (B, N, 3)
    return world, valid


def contact_features(contact: torch.Tensor) -> torch.Tensor:
    """Touch readings float[B, 10] (newtons, flags, newton-metres) -> ``sign(x) log(1 + |x|)``: flags
    stay near 0/0.69, forces of 0.1..20 N map to 0.1..3, so no reading dominates the state token."""
    return torch.sign(contact) * torch.log1p(contact.abs())  # (B, 10)


def resize_images(per_cam: list[torch.Tensor], size: int) -> torch.Tensor:
    """Per camera float[B, Ch, H, W] in [0, 1] -> float[B, C, Ch, size, size], as every VLA input is resized."""
    out = []
    for img in per_cam:
        if img.shape[-2:] != (size, size):
            img = F.interpolate(img, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out.append(img)
    return torch.stack(out, dim=1)  # (B, C, Ch, s, s)


def random_shift(images: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift each image float[B, C, Ch, s, s] by a random offset in [-pad, pad] pixels.

    -> (new images, content shift float[B, C, 2]: how far each image's content moved, (x, y) px)."""
    batch, cams, channels, size, _ = images.shape
    flat = F.pad(images.flatten(0, 1), (pad, pad, pad, pad), mode="replicate")  # (N, Ch, s + 2p, s + 2p)
    n = flat.shape[0]
    offset = torch.randint(0, 2 * pad + 1, (2, n))  # (2, N): rows, cols
    rows, cols = offset.tolist()
    crops = torch.stack(
        [flat[i, :, r : r + size, c : c + size] for i, (r, c) in enumerate(zip(rows, cols, strict=True))]
    )  # (N, Ch, s, s); slicing per image is ~8x faster than one gather with index tensors
    moved = (pad - offset.flip(0).T).float().reshape(batch, cams, 2)  # content moves against the crop
    return crops.reshape(batch, cams, channels, size, size), moved  # (B, C, Ch, s, s), (B, C, 2)


def _fit_tokenizer(config: VLAConfig, normalized: np.ndarray) -> Any:
    """Fit the head's tokenizer on normalized chunks float[N, H, A] (no second normalization)."""
    from hivla.actions import make_tokenizer

    head = config.head
    clipped = np.clip(normalized, -1.0, 1.0)
    if head.kind == "bins":
        return make_tokenizer("bins", n_bins=head.n_bins, normalize=False).fit(clipped)
    return make_tokenizer("fast", scale=head.fast_scale, vocab_size=head.fast_vocab, normalize=False).fit(
        clipped
    )
