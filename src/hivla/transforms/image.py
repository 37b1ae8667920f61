"""Image steps on float tensors shaped (..., 3, H, W) in [0, 1]: resize, random crop, colour jitter;
and the per-image batch augmentations the VLA processor applies in training (``jitter_colour``,
``drop_cameras``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hivla.transforms.base import Sample, present

CAMERA_KEYS = ("observation.images.front", "observation.images.wrist")
_GREY = torch.tensor([0.299, 0.587, 0.114])  # luma weights of R, G, B


def _check_image(x: torch.Tensor, key: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 3 or x.shape[-3] != 3 or not x.is_floating_point():
        got = f"{type(x).__name__} {getattr(x, 'dtype', '')}{list(getattr(x, 'shape', []))}"
        raise TypeError(f"{key}: expected a float tensor (..., 3, H, W) in [0, 1], got {got}")


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@dataclass(frozen=True)
class Resize:
    """Bilinear (antialiased) resize to ``size`` (H, W)."""

    size: int | tuple[int, int]
    keys: tuple[str, ...] = CAMERA_KEYS

    def __post_init__(self) -> None:
        if min(_pair(self.size)) < 1:
            raise ValueError(f"size must be positive, got {self.size}")

    def __call__(self, data: Sample) -> Sample:
        out, hw = dict(data), _pair(self.size)
        for k in present(data, self.keys, False, "Resize"):
            x = data[k]
            _check_image(x, k)
            if tuple(x.shape[-2:]) == hw:
                continue
            flat = x.reshape(-1, *x.shape[-3:])  # (N, 3, H, W)
            y = F.interpolate(flat, size=hw, mode="bilinear", align_corners=False, antialias=True)
            out[k] = y.reshape(*x.shape[:-2], *hw).clamp(0.0, 1.0)
        return out


@dataclass(frozen=True)
class RandomCrop:
    """Crop to ``size`` at a random offset (train) or the centre (eval); the same offset for every
    frame of the call, so an observation history stays aligned."""

    size: int | tuple[int, int]
    keys: tuple[str, ...] = CAMERA_KEYS
    train: bool = True

    def __call__(self, data: Sample) -> Sample:
        out, (ch, cw) = dict(data), _pair(self.size)
        for k in present(data, self.keys, False, "RandomCrop"):
            x = data[k]
            _check_image(x, k)
            h, w = x.shape[-2:]
            if ch > h or cw > w:
                raise ValueError(f"{k}: crop {ch}x{cw} is larger than the image {h}x{w}")
            if self.train:
                top = int(torch.randint(0, h - ch + 1, ()))
                left = int(torch.randint(0, w - cw + 1, ()))
            else:
                top, left = (h - ch) // 2, (w - cw) // 2
            out[k] = x[..., top : top + ch, left : left + cw]
        return out


@dataclass(frozen=True)
class ColorJitter:
    """Random brightness, contrast and saturation factors in [1 - a, 1 + a] (train); identity in eval."""

    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    keys: tuple[str, ...] = CAMERA_KEYS
    train: bool = True

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "saturation"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be within [0, 1), got {getattr(self, name)}")

    def __call__(self, data: Sample) -> Sample:
        if not self.train:
            return dict(data)
        out = dict(data)

        def factor(a: float) -> float:
            return 1.0 + (2.0 * float(torch.rand(())) - 1.0) * a

        b, c, s = factor(self.brightness), factor(self.contrast), factor(self.saturation)
        for k in present(data, self.keys, False, "ColorJitter"):
            x = data[k]
            _check_image(x, k)
            y = x * b
            mean = y.mean(dim=(-3, -2, -1), keepdim=True)
            y = (y - mean) * c + mean
            grey = 0.299 * y[..., 0:1, :, :] + 0.587 * y[..., 1:2, :, :] + 0.114 * y[..., 2:3, :, :]
            y = (y - grey) * s + grey
            out[k] = y.clamp(0.0, 1.0)
        return out


def jitter_colour(images: torch.Tensor, amplitude: float) -> torch.Tensor:
    """Random brightness, contrast and saturation factors in [1 - a, 1 + a], drawn per image.

    ``images`` float[..., 3, H, W] in [0, 1], e.g. (B, C, 3, H, W): every (sample, camera) image gets
    its own three factors (torch's global generator). Returns a new tensor; ``amplitude`` 0 returns
    the input unchanged. Hue is left alone: colour names ("the red cube") must stay true.
    """
    if not 0.0 <= amplitude < 1.0:
        raise ValueError(f"colour jitter amplitude must be within [0, 1), got {amplitude}")
    _check_image(images, "images")
    if amplitude == 0.0:
        return images
    lead = images.shape[:-3]
    b, c, s = (1.0 + (2.0 * torch.rand(3, *lead, 1, 1, 1) - 1.0) * amplitude).to(
        images
    )  # (..., 1, 1, 1) each
    # brightness b, contrast c about the mean m, saturation s about the grey g, in one pass:
    # ((x b - m b) c + m b) then toward its grey -> b c (g + s (x - g)) + m b (1 - c)
    mean = images.mean(dim=(-3, -2, -1), keepdim=True)  # (..., 1, 1, 1)
    grey = torch.einsum("...chw,c->...hw", images, _GREY.to(images)).unsqueeze(-3)  # (..., 1, H, W)
    return torch.addcmul(mean * b * (1.0 - c), torch.lerp(grey, images, s), b * c).clamp_(0.0, 1.0)


def drop_cameras(images: torch.Tensor, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Blank (set to 0) each camera image of each sample with probability ``p``, never all cameras of
    a sample: when every camera of a sample is drawn, one of them, at random, is kept.

    ``images`` float[B, C, 3, H, W] with C >= 2 -> (new images, kept bool[B, C]). Trains a policy
    not to lean on one view alone (a camera that is occluded, moved or broken at test time).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"camera dropout probability must be within [0, 1), got {p}")
    if images.ndim != 5 or images.shape[1] < 2:
        raise ValueError(
            f"camera dropout needs images float[B, C, 3, H, W] with C >= 2, got {tuple(images.shape)}"
        )
    batch, cams = images.shape[:2]
    kept = torch.rand(batch, cams) >= p  # (B, C)
    none = ~kept.any(1)  # (B,) samples that would lose every camera
    rescue = torch.randint(0, cams, (batch,))  # (B,)
    kept[none, rescue[none]] = True
    return images * kept[:, :, None, None, None].to(images), kept  # (B, C, 3, H, W), (B, C)
