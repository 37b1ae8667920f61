"""Render an episode for inspection: cameras side by side with the instruction, subtask and
reasoning text drawn underneath (Pillow's bundled font, via ``hivla.reporting.text``); recorded
depth maps (``hivla collect --sensors depth``) as colour-mapped tiles after the cameras and the
touch readings (``--sensors contact``) as one more line of text."""

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
    depth = [k for k in meta.features if k.startswith(fmt.DEPTH_PREFIX)]
    videos += [depth_tiles(table.columns[k].reshape(-1, *meta.features[k]["shape"])) for k in depth]
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
        if fmt.CONTACT in cols:
            lines.append(contact_text(cols[fmt.CONTACT][t]))
        out.append(np.concatenate([frame, text_panel(lines, frame.shape[1])], axis=0))
    return np.stack(out)


DEPTH_VIEW_RANGE = (0.0, 1.5)  # metres mapped across the colour map (the table lies within it)


def depth_tiles(units: np.ndarray) -> np.ndarray:
    """Stored depth (uint16 millimetres [T, H, W]) -> uint8[T, H, W, 3] coloured with matplotlib's
    ``viridis`` over :data:`DEPTH_VIEW_RANGE` (near dark, far yellow)."""
    import matplotlib

    lo, hi = DEPTH_VIEW_RANGE
    scaled = (fmt.units_to_depth(units) - lo) / (hi - lo)  # (T, H, W)
    rgba = matplotlib.colormaps["viridis"](np.clip(scaled, 0.0, 1.0))  # (T, H, W, 4) in [0, 1]
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def contact_text(reading: np.ndarray) -> str:
    """One frame's touch readings (``hivla.types.CONTACT_NAMES``) in words."""
    r = np.asarray(reading, np.float64)
    touch = "".join("LR"[i] if r[2 + i] > 0 else "-" for i in range(2))
    return (
        f"contact: fingers {r[0]:.1f} N / {r[1]:.1f} N (touch {touch}); "
        f"wrench f=({r[4]:.1f}, {r[5]:.1f}, {r[6]:.1f}) N, t=({r[7]:.2f}, {r[8]:.2f}, {r[9]:.2f}) N m"
    )


def write_episode_video(root: str | Path, episode: int, out: str | Path, scale: int = 2) -> Path:
    frames = render_episode(root, episode, scale)
    fps = DatasetMeta.load(root).fps
    return encode_video(frames, out, fps, VideoConfig(crf=23))
