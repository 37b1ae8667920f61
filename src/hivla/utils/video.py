"""Write uint8 RGB frames to an mp4 with PyAV (bundled FFmpeg); no torchvision, no imageio."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_mp4(frames: Sequence[np.ndarray], path: str | Path, fps: int, crf: int = 23) -> Path:
    """Encode ``frames`` (each uint8[H, W, 3], same size) as H.264/yuv420p. Odd sizes are padded."""
    import av

    if not frames:
        raise ValueError(f"no frames to write to {path}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    ph, pw = h + h % 2, w + w % 2
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
        for frame in frames:
            if frame.shape[:2] != (h, w):
                raise ValueError(f"frame size {frame.shape[:2]} differs from the first frame's {(h, w)}")
            padded = np.zeros((ph, pw, 3), np.uint8)
            padded[:h, :w] = frame
            for packet in stream.encode(av.VideoFrame.from_ndarray(padded, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def read_mp4(path: str | Path) -> np.ndarray:
    """Decode every frame: uint8[T, H, W, 3]."""
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
