"""Batch image augmentations: per-image colour jitter and camera dropout (never every camera)."""

from __future__ import annotations

import pytest
import torch

from hivla.transforms.image import drop_cameras, jitter_colour


def _images(batch: int = 8, cams: int = 2, size: int = 16) -> torch.Tensor:
    return torch.rand(
        batch, cams, 3, size, size, generator=torch.Generator().manual_seed(0)
    )  # (B, C, 3, s, s)


def test_colour_jitter_changes_each_image_by_its_own_factors_and_keeps_the_input():
    images = _images()
    before = images.clone()
    torch.manual_seed(0)
    out = jitter_colour(images, 0.4)
    assert torch.equal(images, before) and out.shape == images.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    ratio = out.mean(dim=(2, 3, 4)) / images.mean(dim=(2, 3, 4))  # (B, C) mean brightness change
    assert len(torch.unique(ratio.round(decimals=4))) == ratio.numel()  # a factor per sample and camera
    assert torch.equal(jitter_colour(images, 0.0), images)


def test_camera_dropout_never_blanks_every_camera_of_a_sample():
    images = _images(batch=512) + 0.01  # no pixel is 0 before the dropout
    before = images.clone()
    torch.manual_seed(0)
    out, kept = drop_cameras(images, 0.9)
    assert torch.equal(images, before)
    assert kept.any(1).all()  # at p = 0.9 most samples drew both cameras: one was kept
    blank = (out == 0).flatten(2).all(-1)  # (B, C)
    assert torch.equal(blank, ~kept) and torch.equal(out[kept], images[kept])
    assert 0.4 < (~kept).float().mean() < 0.55  # about half the images: one camera of most samples


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: jitter_colour(_images(), 1.0), r"within \[0, 1\)"),
        (lambda: drop_cameras(_images(), -0.1), r"within \[0, 1\)"),
        (lambda: drop_cameras(_images(cams=1), 0.1), "C >= 2"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_colour_jitter_is_brightness_then_contrast_then_saturation():
    images = _images(batch=4)
    torch.manual_seed(3)
    b, c, s = 1.0 + (2.0 * torch.rand(3, 4, 2, 1, 1, 1) - 1.0) * 0.5  # the draws jitter_colour makes
    y = images * b
    mean = y.mean(dim=(-3, -2, -1), keepdim=True)
    y = (y - mean) * c + mean
    grey = 0.299 * y[..., 0:1, :, :] + 0.587 * y[..., 1:2, :, :] + 0.114 * y[..., 2:3, :, :]
    want = ((y - grey) * s + grey).clamp(0.0, 1.0)  # the steps of transforms.ColorJitter, per image
    torch.manual_seed(3)
    assert torch.allclose(jitter_colour(images, 0.5), want, atol=1e-6)
