"""Training augmentations of the VLA processor: shift, colour jitter, camera dropout, paraphrase.
On in training only (inference is deterministic and unchanged), never mutating the batch, refused
with cached frozen features."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from tests.policies.conftest import build, make_batch, tiny_config

from hivla.configs import DataConfig, ExperimentConfig
from hivla.configs.presets import AugmentationCacheError
from hivla.models import VisionConfig
from hivla.sim.language import TEMPLATES
from hivla.transforms.paraphrase import parse_text

ALL_ON = {"augment_shift": 2, "augment_colour": 0.3, "camera_dropout": 0.3, "paraphrase": 1.0}


def _policy(**augment):
    return build(dataclasses.replace(tiny_config("cnn", "l1"), **augment))


def _batch(cfg, n: int = 6) -> dict:
    batch = make_batch(cfg, batch=n)
    batch["task"] = ["Place the red cube in the blue bowl, then press the button."] * n
    return batch


def test_each_augmentation_changes_training_pixels_and_inference_is_untouched():
    plain = _policy(augment_shift=0)
    batch = _batch(plain.config)
    reference = plain.processor.prepare_batch(batch)["images"]  # (B, C, 3, s, s)
    for name, value in {"augment_shift": 2, "augment_colour": 0.3, "camera_dropout": 0.5}.items():
        policy = _policy(**{"augment_shift": 0, name: value})
        prep = policy.processor.prepare_batch
        torch.manual_seed(0)
        assert not torch.equal(prep(batch, train=True)["images"], reference), name
        assert torch.equal(prep(batch)["images"], reference), name  # eval: identity, deterministic
        assert prep(batch)["texts"] == batch["task"]


def test_all_augmentations_keep_the_batch_and_train():
    policy = _policy(**ALL_ON).train()
    batch = _batch(policy.config)
    before = copy.deepcopy(batch)
    torch.manual_seed(0)
    loss, _ = policy.compute_loss(batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert set(batch) == set(before)
    assert all(
        torch.equal(batch[k], before[k]) if isinstance(before[k], torch.Tensor) else batch[k] == before[k]
        for k in before
    )


def test_dropout_in_the_processor_keeps_a_camera_and_hides_its_target():
    policy = _policy(augment_shift=0, camera_dropout=0.9)
    images = torch.rand(256, 2, 3, 8, 8) + 0.01  # (B, C, 3, s, s), no pixel at 0
    torch.manual_seed(0)
    out, moved, kept = policy.processor.augment_images(images)
    assert kept.any(1).all() and not kept.all() and torch.equal(moved, torch.zeros(256, 2, 2))
    assert torch.equal((out == 0).flatten(2).all(-1), ~kept)  # blanked exactly where not kept
    labels = torch.tensor([[0.1, 0.2, 1.0] * 2])[:, None].expand(256, 1, 6)  # (B, 1, 3 * cameras)
    uv = policy.processor.target_uv({"annotation.target_uv": labels}, moved, 8, kept)  # (B, C, 3)
    assert torch.equal(uv[..., 2] > 0, kept)


def test_paraphrase_rewords_training_texts_only_with_training_templates():
    policy = _policy(augment_shift=0, paraphrase=1.0)
    batch = _batch(policy.config, n=64)
    held = {TEMPLATES[k][-1].format(obj="red cube", target="blue bowl", prep="in") for k in TEMPLATES}
    torch.manual_seed(0)
    texts = [t for _ in range(10) for t in policy.processor.prepare_batch(batch, train=True)["texts"]]
    assert len(set(texts)) > 3
    for text in texts:
        parsed = parse_text(text)
        assert not parsed.heldout and [(p.kind, p.obj, p.target) for p in parsed.phrases] == [
            ("place", "red cube", "blue bowl"),
            ("press_button", None, None),
        ]
        assert not any(h in text.lower() for h in held)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"augment_colour": 1.0}, r"augment_colour must be within \[0, 1\)"),
        ({"camera_dropout": -0.1}, r"camera_dropout must be within \[0, 1\)"),
        ({"paraphrase": 1.5}, r"paraphrase is a probability"),
        ({"camera_dropout": 0.2, "cameras": ("front",)}, "needs two cameras"),
    ],
)
def test_config_validation(fields, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(tiny_config("cnn", "l1"), **fields)


def test_image_augmentation_with_cached_frozen_features_is_refused():
    frozen = dataclasses.replace(
        tiny_config("cnn", "l1"), vision=VisionConfig(kind="efficientnet_lite0", freeze=True, grid=1)
    )
    with pytest.raises(
        AugmentationCacheError, match=r"augment_shift=2, augment_colour=0\.3.*cache_features=False"
    ):
        ExperimentConfig(policy=dataclasses.replace(frozen, augment_colour=0.3))
    no_cache = DataConfig(cache_features=False)
    assert ExperimentConfig(policy=dataclasses.replace(frozen, augment_colour=0.3), data=no_cache)
    # text augmentation does not touch a frozen image encoder's features
    assert ExperimentConfig(policy=dataclasses.replace(frozen, augment_shift=0, paraphrase=0.5))
