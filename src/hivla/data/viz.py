"""Render an episode for inspection: cameras side by side with the instruction, subtask and
reasoning text drawn underneath (Pillow's built-in font)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta
from hivla.data.reader import FrameTable, VideoCache
from hivla.data.video import VideoConfig, encode_video


def _pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as e:  # pragma: no cover
        raise ImportError("hivla data viz draws text with Pillow: pip install pillow") from e
    return Image, ImageDraw, ImageFont


def text_panel(lines: list[str], width: int, font_size: int = 12, max_lines: int = 7) -> np.ndarray:
    """uint8[h, width, 3]: ``lines`` wrapped to the width, white on dark grey."""
    Image, ImageDraw, ImageFont = _pillow()
    font = ImageFont.load_default(size=font_size)
    chars = max(10, int(width / (0.6 * font_size)))
    wrapped = [w for line in lines for w in (textwrap.wrap(line, chars) or [""])][:max_lines]
    height = 6 + max_lines * (font_size + 3)
    img = Image.new("RGB", (width, height), (30, 30, 30))
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(wrapped):
        draw.text((4, 3 + i * (font_size + 3)), line, fill=(240, 240, 240), font=font)
    return np.asarray(img)


def render_episode(root: str | Path, episode: int, scale: int = 2) -> np.ndarray:
    """Frames uint8[T, H', W', 3] of one episode with its text overlaid."""
    meta = DatasetMeta.load(root)
    rows = [e for e in meta.episodes if e["episode_index"] == episode]
    if not rows:
        raise DatasetError(meta.paths.episodes, f"no episode {episode}; the dataset has {len(meta.episodes)}")
    table = FrameTable(meta, rows)
    cache = VideoCache(meta, max_bytes=0)
    videos = [cache.decode(rows[0], k) for k in meta.video_keys]
    if not videos:
        raise DatasetError(meta.paths.info, "the dataset has no video features to render")
    h = max(v.shape[1] for v in videos)
    tiles = [np.pad(v, ((0, 0), (0, h - v.shape[1]), (0, 0), (0, 0))) for v in videos]
    frames = np.concatenate(tiles, axis=2).repeat(scale, axis=1).repeat(scale, axis=2)  # (T, H', W', 3)
    cols, out = table.columns, []
    task = rows[0]["tasks"][0] if rows[0].get("tasks") else ""
    for t, frame in enumerate(frames):
        lines = [f"[{t}/{len(frames)}] task: {task or meta.tasks.get(int(cols[fmt.TASK_INDEX][t]), '')}"]
        if fmt.SUBTASK in cols:
            lines.append(
                f"subtask {int(cols.get(fmt.SUBTASK_INDEX, [0] * len(frames))[t])}: {cols[fmt.SUBTASK][t]}"
            )
        if fmt.REASONING in cols:
            lines.append(str(cols[fmt.REASONING][t]))
        out.append(np.concatenate([frame, text_panel(lines, frame.shape[1])], axis=0))
    return np.stack(out)


def write_episode_video(root: str | Path, episode: int, out: str | Path, scale: int = 2) -> Path:
    frames = render_episode(root, episode, scale)
    fps = DatasetMeta.load(root).fps
    return encode_video(frames, out, fps, VideoConfig(crf=23))
