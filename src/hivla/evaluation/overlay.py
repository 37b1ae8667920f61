"""Rollout video frames with text burned into the pixels: instruction, subtask, reasoning, outcome,
and a cross where a localizing policy sees its target.

A frame is the camera images side by side (upscaled by an integer factor to at least
``MIN_WIDTH`` px) above a caption band of ``BAND_LINES`` text lines, so every frame of a video
has the same size.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hivla.evaluation.font import CELL_H, CELL_W, draw_text, wrap

MIN_WIDTH = 256
BAND_LINES = 8
LINE_H = CELL_H + 1
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


def caption_lines(caption: Caption, width_chars: int) -> list[tuple[str, tuple[int, int, int]]]:
    """The band's text lines (at most ``BAND_LINES``) with their colours."""
    lines = [(s, WHITE) for s in wrap(f"task: {caption.instruction}", width_chars)[:2]]
    lines += [(s, YELLOW) for s in wrap(f"subtask {caption.subtask}", width_chars)[:1]]
    if caption.interjection:
        lines += [(s, GREEN_TEXT) for s in wrap(f"human: {caption.interjection}", width_chars)[:1]]
    if caption.plan:
        lines += [(s, ORANGE) for s in wrap(f"plan: {caption.plan}", width_chars)[:1]]
    if caption.reasoning:
        room = BAND_LINES - 1 - len(lines)
        lines += [(s, CYAN) for s in wrap(f"why: {caption.reasoning}", width_chars)[:room]]
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
    for i, (text, colour) in enumerate(caption_lines(caption, (w * s - 4) // CELL_W)):
        band = draw_text(band, text, 2, 2 + i * LINE_H, colour)
    if caption.outcome is not None:
        big = _banner(big, caption.outcome)
    return np.concatenate([big, band], axis=0)


def _banner(image: np.ndarray, outcome: str) -> np.ndarray:
    text = "SUCCESS" if outcome == "success" else f"FAILED: {outcome.replace('_', ' ')}"
    scale = 2 if len(text) * CELL_W * 2 + 8 <= image.shape[1] else 1
    out = image.copy()
    out[: CELL_H * scale + 6] = GREEN if outcome == "success" else RED
    return draw_text(out, text, 4, 3, WHITE, scale)


def encode_mp4(frames: Sequence[np.ndarray], fps: int) -> bytes:
    """H.264 mp4 bytes of uint8[H, W, 3] frames (via ``hivla.utils.video.write_mp4``)."""
    from hivla.utils.video import write_mp4

    with tempfile.TemporaryDirectory() as tmp:
        return write_mp4(frames, Path(tmp) / "clip.mp4", fps=fps).read_bytes()
