"""Rollout video frames with text burned into the pixels: instruction, subtask, reasoning, outcome,
and a cross where a localizing policy sees its target.

A frame is the camera images side by side (upscaled by an integer factor to at least
``MIN_WIDTH`` px) above a caption band of ``BAND_LINES`` text lines (Pillow's bundled font, via
``hivla.reporting.text``), so every frame of a video has the same size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hivla.reporting.text import draw_text, text_width, wrap

MIN_WIDTH = 256
BAND_LINES = 8
FONT_SIZE = 11  # px; readable in a 256 px wide frame
LINE_H = FONT_SIZE + 2
BANNER_SIZE = 18
WHITE, YELLOW, ORANGE, CYAN, GREY = (
    (240, 240, 240),
    (250, 210, 80),
    (250, 150, 70),
    (120, 210, 230),
    (150, 150, 150),
)
GREEN, RED, GREEN_TEXT = (40, 160, 70), (190, 40, 40), (130, 230, 130)
MAGENTA = (255, 40, 220)


@dataclass(frozen=True)
class Caption:
    """The text of one frame."""

    instruction: str
    subtask: str  # e.g. "2/3 place the red cube in the bowl"
    step: int
    max_steps: int
    reasoning: str | None = None
    plan: str | None = None  # the policy's own idea of the subtask (hierarchical policies)
    interjection: str | None = None  # the latest human interjection, once given
    outcome: str | None = None  # "success" or a failure category, shown on the last frames


def caption_lines(caption: Caption, width: float) -> list[tuple[str, tuple[int, int, int]]]:
    """The band's text lines (at most ``BAND_LINES``, each at most ``width`` px) with their colours."""

    def fit(text: str) -> list[str]:
        return wrap(text, width, FONT_SIZE)

    lines = [(s, WHITE) for s in fit(f"task: {caption.instruction}")[:2]]
    lines += [(s, YELLOW) for s in fit(f"subtask {caption.subtask}")[:1]]
    if caption.interjection:
        lines += [(s, GREEN_TEXT) for s in fit(f"human: {caption.interjection}")[:1]]
    if caption.plan:
        lines += [(s, ORANGE) for s in fit(f"plan: {caption.plan}")[:1]]
    if caption.reasoning:
        room = BAND_LINES - 1 - len(lines)
        lines += [(s, CYAN) for s in fit(f"why: {caption.reasoning}")[:room]]
    lines.append((f"step {caption.step}/{caption.max_steps}", GREY))
    return lines


def mark_target(image: np.ndarray, u: float, v: float, colour: tuple[int, int, int] = MAGENTA) -> np.ndarray:
    """A copy of uint8[H, W, 3] with a small cross where the policy located its target (u, v in -1..1
    across the image; clipped to the border)."""
    h, w = image.shape[:2]
    col = int(np.clip(round((u + 1.0) / 2.0 * w - 0.5), 0, w - 1))
    row = int(np.clip(round((v + 1.0) / 2.0 * h - 0.5), 0, h - 1))
    arm = max(2, min(h, w) // 20)
    out = image.copy()
    out[row, max(0, col - arm) : col + arm + 1] = colour
    out[max(0, row - arm) : row + arm + 1, col] = colour
    return out


def compose_frame(panel: np.ndarray, caption: Caption) -> np.ndarray:
    """uint8[H, W, 3] camera panel + caption -> uint8[H * s + band, W * s, 3]."""
    w = panel.shape[1]
    s = max(1, math.ceil(MIN_WIDTH / w))
    big = np.repeat(np.repeat(panel, s, axis=0), s, axis=1)  # (H*s, W*s, 3)
    band = np.full((BAND_LINES * LINE_H + 4, w * s, 3), 24, np.uint8)
    band = draw_text(band, caption_lines(caption, w * s - 4), 2, 2, FONT_SIZE, LINE_H)
    if caption.outcome is not None:
        big = _banner(big, caption.outcome)
    return np.concatenate([big, band], axis=0)


def _banner(image: np.ndarray, outcome: str) -> np.ndarray:
    text = "SUCCESS" if outcome == "success" else f"FAILED: {outcome.replace('_', ' ')}"
    size = BANNER_SIZE if text_width(text, BANNER_SIZE) + 8 <= image.shape[1] else FONT_SIZE
    out = image.copy()
    out[: size + 8] = GREEN if outcome == "success" else RED
    return draw_text(out, [(text, WHITE)], 4, 3, size, size)
