"""Render an episode for inspection: cameras side by side with the instruction, subtask and
reasoning text drawn underneath (Pillow's bundled font, via ``hivla.reporting.text``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hivla.data import format as fmt
from hivla.data.errors import DatasetError
from hivla.data.meta import DatasetMeta
from hivla.data.reader import FrameTable, VideoCache
from hivla.data.video import VideoConfig, encode_video
from hivla.reporting.text import text_panel


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
