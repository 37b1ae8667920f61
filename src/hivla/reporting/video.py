"""Videos inside a report: H.264 mp4 bytes from frames, embedded as data URIs with a caption.

Each ``<video>`` gets ``data-state="ready"`` once the browser has decoded it, or ``"error"`` (which
shows the fallback note) when it cannot: add ``VIDEO_STATE_SCRIPT`` to the page's scripts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path

import numpy as np

from hivla.reporting.images import data_uri

VIDEO_STATE_SCRIPT = """
document.querySelectorAll('video').forEach(function (v) {
  function mark(state) { v.dataset.state = state; }
  v.addEventListener('loadeddata', function () { mark('ready'); });
  v.addEventListener('error', function () { mark('error'); });
  if (v.readyState >= 2) { mark('ready'); }
});
"""


def mp4_bytes(frames: Sequence[np.ndarray], fps: int) -> bytes:
    """H.264 mp4 bytes of uint8[H, W, 3] frames (via ``hivla.utils.video.write_mp4``)."""
    from hivla.utils.video import write_mp4

    with tempfile.TemporaryDirectory() as tmp:
        return write_mp4(frames, Path(tmp) / "clip.mp4", fps=fps).read_bytes()


def video_figure(mp4: bytes, caption_html: str, fallback_path: str | None = None, outcome: str = "") -> str:
    """A ``<figure>`` with the looping, muted video embedded and ``caption_html`` (already HTML)
    below it; ``fallback_path`` names the file to open when the browser cannot decode H.264."""
    where = escape(fallback_path or "the mp4")
    attr = f' data-outcome="{escape(outcome)}"' if outcome else ""
    return (
        f'<figure{attr}><video controls muted loop playsinline preload="auto" src="{data_uri(mp4, "video/mp4")}"></video>'
        f'<p class="fallback">This browser cannot decode H.264 video; open {where} next to this report.</p>'
        f"<figcaption>{caption_html}</figcaption></figure>"
    )


def videos(figures: Sequence[str]) -> str:
    """Video figures side by side, wrapping onto new rows."""
    return f'<div class="videos">{"".join(figures)}</div>'
