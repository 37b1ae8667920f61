"""mp4 video per camera with PyAV (its bundled FFmpeg): encode episodes, decode time ranges."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hivla.data.errors import DatasetError


@dataclass(frozen=True)
class VideoConfig:
    """How camera streams are encoded.

    codec: an FFmpeg encoder name PyAV can open (libx264, h264, libsvtav1, libaom-av1, ...).
    crf: constant-rate-factor quality (lower is better; 0 is lossless for libx264).
    gop: key-frame interval in frames (None: the codec default, one keyframe per episode for
        libx264). A short GOP makes a random frame cheap to reach (a loader seeks to the keyframe
        before it and decodes forward); LeRobot encodes with a short GOP too. See BENCHMARKS.md
        (Dataset loader: random access) for the rate and size this default costs.
    bframes: most B-frames between references (None: the codec default, 3 for libx264). 1 gives
        the one-frame encoder delay LeRobot's H.264 streams have: LeRobot's merge tool joins mp4
        files by stream copy and fails ("non monotonically increasing dts") on files whose delays
        differ, so hivla and LeRobot files then join in either order.
    """

    codec: str = "libx264"
    crf: int = 20
    preset: str = "veryfast"
    pix_fmt: str = "yuv420p"
    gop: int | None = 10
    bframes: int | None = 1

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 63:
            raise ValueError(f"crf must be within 0..63, got {self.crf}")
        if self.gop is not None and self.gop < 1:
            raise ValueError(f"gop must be >= 1 or None, got {self.gop}")
        if self.bframes is not None and self.bframes < 0:
            raise ValueError(f"bframes must be >= 0 or None, got {self.bframes}")

    def options(self) -> dict[str, str]:
        opts = {"crf": str(self.crf)}
        if self.preset and self.codec in ("libx264", "libx265"):
            opts["preset"] = self.preset
        if self.gop is not None:
            opts["g"] = str(self.gop)
        if self.bframes is not None:
            opts["bf"] = str(self.bframes)
        return opts

    def pix_fmt_for(self, height: int, width: int) -> str:
        """The pixel format a (height, width) stream is encoded in: a 4:2:0 format needs even
        sizes, so odd sizes are stored in 4:4:4 (exact size, no padding; see ``encode_video``)."""
        if (height % 2 or width % 2) and self.pix_fmt.startswith(("yuv420", "yuvj420", "nv12")):
            return "yuv444p"
        return self.pix_fmt

    def info(self, height: int, width: int, fps: int) -> dict[str, object]:
        """The LeRobot ``features[key]["info"]`` of a (height, width) stream, with LeRobot's keys:
        ``video.codec`` is the stream's codec (``h264``), not the encoder (``libx264``)."""
        return {
            "video.height": int(height),
            "video.width": int(width),
            "video.codec": codec_name(self.codec),
            "video.pix_fmt": self.pix_fmt_for(height, width),
            "video.is_depth_map": False,
            "video.fps": int(fps),
            "video.channels": 3,
            "has_audio": False,
        }

    def to_dict(self) -> dict[str, object]:
        """The encoder settings hivla records under ``info.json``'s ``hivla.video``."""
        return {"codec": self.codec, "crf": self.crf, "preset": self.preset, "pix_fmt": self.pix_fmt,
                "gop": self.gop, "bframes": self.bframes}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> VideoConfig:
        """Inverse of ``to_dict``; datasets of hivla format 1 have no ``bframes`` (codec default)."""
        return cls(d["codec"], d["crf"], d["preset"], d["pix_fmt"], d["gop"], d.get("bframes"))


def codec_name(encoder: str) -> str:
    """The codec an FFmpeg encoder writes (``libx264`` -> ``h264``, ``libsvtav1`` -> ``av1``)."""
    import av

    try:
        return av.codec.Codec(encoder, "w").canonical_name
    except Exception:
        return encoder


def check_encoder(codec: str) -> None:
    """Raise ValueError naming the available H.264/AV1 encoders if PyAV cannot encode ``codec``."""
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:
        usable = []
        for name in ("libx264", "h264", "libopenh264", "libsvtav1", "libaom-av1", "mpeg4"):
            try:
                av.codec.Codec(name, "w")
                usable.append(name)
            except Exception:
                continue
        raise ValueError(
            f"PyAV's FFmpeg has no encoder {codec!r}; encoders available here: {usable or 'none'}. "
            "Pass one of them as the video codec."
        ) from None


def encode_video(
    frames: np.ndarray, path: str | Path, fps: int, cfg: VideoConfig = VideoConfig(), pad_odd: bool = True
) -> Path:
    """Encode uint8[T, H, W, 3] frames to ``path``.

    Odd sizes: with ``pad_odd`` (for players that need 4:2:0, e.g. browsers) the frames are padded
    to even and the reader crops back; without it (datasets) they are stored at their exact size
    in 4:4:4 (``VideoConfig.pix_fmt_for``), so the stream's size is the declared size.
    """
    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected uint8[T>0, H, W, 3] frames, got {frames.dtype}{list(frames.shape)}")
    check_encoder(cfg.codec)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _, h, w, _ = frames.shape
    ph, pw = (h + h % 2, w + w % 2) if pad_odd else (h, w)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(cfg.codec, rate=fps, options=cfg.options())
        stream.width, stream.height, stream.pix_fmt = pw, ph, cfg.pix_fmt_for(ph, pw)
        for i, frame in enumerate(frames):
            if (ph, pw) != (h, w):
                frame = np.pad(frame, ((0, ph - h), (0, pw - w), (0, 0)))
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            vf.pts = i
            container.mux(stream.encode(vf))
        container.mux(stream.encode())
    return path


def decode_video(
    path: str | Path,
    fps: float,
    from_ts: float = 0.0,
    to_ts: float | None = None,
    shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode the frames whose time lies in [from_ts, to_ts): uint8[T, H, W, 3].

    ``shape`` (H, W) crops padding added at encoding. Raises DatasetError if the file is missing
    or cannot be decoded.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, "video file is missing", "Re-collect the episode or restore the file.")
    half = 0.5 / fps
    out = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if from_ts > half and stream.time_base is not None:
                container.seek(int(from_ts / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                t = frame.time if frame.time is not None else len(out) / fps
                if t < from_ts - half:
                    continue
                if to_ts is not None and t >= to_ts - half:
                    break
                out.append(frame.to_ndarray(format="rgb24"))
    except av.error.FFmpegError as e:
        raise DatasetError(path, f"cannot decode video ({e})", "The file is truncated or corrupt.") from e
    if not out:
        return np.zeros((0, *(shape or (0, 0)), 3), np.uint8)
    frames = np.stack(out)
    if shape is not None:
        frames = frames[:, : shape[0], : shape[1]]
    return np.ascontiguousarray(frames)


def count_frames(path: str | Path) -> int | None:
    """Frames recorded in the container header (cheap), or None if the container does not say."""
    import av

    try:
        with av.open(str(path)) as container:
            n = container.streams.video[0].frames
    except av.error.FFmpegError as e:
        raise DatasetError(path, f"cannot open video ({e})", "The file is truncated or corrupt.") from e
    return int(n) or None


DEFAULT_VIDEO = VideoConfig()
