"""Text drawn into uint8 RGB images with Pillow's bundled font (no font files to ship or download).

Sizes are in pixels. ``wrap`` measures words with the font, so lines fit a pixel width whatever the
font's letter widths are.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font at ``size`` px (Pillow >= 10.1 with FreeType)."""
    if size < 1:
        raise ValueError(f"font size must be >= 1 px, got {size}")
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        raise ImportError(
            "Pillow was built without FreeType, so its scalable default font is missing; "
            "install a Pillow wheel from PyPI (pip install 'pillow>=10.1')"
        )
    return loaded


def text_width(text: str, size: int) -> float:
    """Width of ``text`` in px at ``size``."""
    return font(size).getlength(text)


def wrap(text: str, width: float, size: int) -> list[str]:
    """Split ``text`` into lines at most ``width`` px wide at ``size``, at spaces where possible
    (a word wider than a line is cut)."""
    if width < text_width("W", size):
        raise ValueError(f"width must fit at least one letter ({text_width('W', size):.0f} px), got {width}")
    lines: list[str] = []
    line = ""
    for word in text.split():
        while text_width(word, size) > width:  # a word longer than a line is cut
            if line:
                lines.append(line)
                line = ""
            cut = max((n for n in range(1, len(word)) if text_width(word[:n], size) <= width), default=1)
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def draw_text(
    image: np.ndarray, lines: list[tuple[str, Colour]], x: int, y: int, size: int, line_height: int
) -> np.ndarray:
    """A copy of uint8[H, W, 3] ``image`` with each (text, colour) line drawn from top-left (x, y),
    ``line_height`` px apart; text past the edges is cut."""
    canvas = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(canvas)
    for i, (text, colour) in enumerate(lines):
        draw.text((x, y + i * line_height), text, fill=colour, font=font(size))
    return np.array(canvas)


def text_panel(
    lines: list[str],
    width: int,
    size: int = 12,
    max_lines: int = 7,
    colour: Colour = (240, 240, 240),
    background: Colour = (30, 30, 30),
) -> np.ndarray:
    """uint8[h, width, 3]: ``lines`` wrapped to the width (at most ``max_lines``) on a plain band whose
    height depends only on ``max_lines``."""
    line_height = size + 3
    wrapped = [w for line in lines for w in (wrap(line, width - 8, size) or [""])][:max_lines]
    band = np.full((6 + max_lines * line_height, width, 3), background, np.uint8)
    return draw_text(band, [(w, colour) for w in wrapped], 4, 3, size, line_height)
