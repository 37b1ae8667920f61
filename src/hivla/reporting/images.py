"""Images for reports and docs with Pillow: PNG files and bytes, data URIs, embedded figures,
labelled frame grids."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from hivla.reporting.text import font


def _rgb(image: np.ndarray) -> Image.Image:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image uint8[H, W, 3], got {image.dtype}{list(image.shape)}")
    return Image.fromarray(np.ascontiguousarray(image))


def png_bytes(image: np.ndarray) -> bytes:
    """uint8[H, W, 3] -> the bytes of an RGB PNG."""
    buf = io.BytesIO()
    _rgb(image).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Save uint8[H, W, 3] as an RGB PNG (parent folders are created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))
    return path


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,...`` so that a page embeds the file instead of linking it."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def png_data_uri(png: bytes) -> str:
    return data_uri(png, "image/png")


def image_figure(png: bytes, caption_html: str) -> str:
    """A page-wide ``<figure>`` with the PNG embedded and ``caption_html`` (already HTML) below it."""
    return (
        f'<figure class="wide"><img class="frames" alt="" src="{png_data_uri(png)}">'
        f"<figcaption>{caption_html}</figcaption></figure>"
    )


def frame_grid(
    rows: Sequence[Sequence[np.ndarray]], labels: Sequence[str], scale: int = 3, label_size: int = 12
) -> np.ndarray:
    """Rows of frames (uint8[H, W, 3] each, all one size), upscaled by ``scale`` and each row labelled
    on its left, on white: uint8[rows * (H * scale + 2), label_w + cols * (W * scale + 2), 3]."""
    if not rows or not rows[0]:
        raise ValueError("frame_grid needs at least one row with one frame")
    if len(rows) != len(labels):
        raise ValueError(f"got {len(rows)} rows but {len(labels)} labels; give one label per row")
    h, w = np.asarray(rows[0][0]).shape[:2]
    cols, pad = max(len(r) for r in rows), 2
    label_w = int(max(font(label_size).getlength(label) for label in labels)) + 12
    canvas = Image.new("RGB", (label_w + cols * (w * scale + pad), len(rows) * (h * scale + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for ri, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y0 = ri * (h * scale + pad)
        draw.text((4, y0 + h * scale // 2), label, fill=(0, 0, 0), font=font(label_size), anchor="lm")
        for ci, frame in enumerate(row):
            tile = _rgb(np.asarray(frame, np.uint8)).resize((w * scale, h * scale), Image.Resampling.NEAREST)
            canvas.paste(tile, (label_w + ci * (w * scale + pad), y0))
    return np.array(canvas)
