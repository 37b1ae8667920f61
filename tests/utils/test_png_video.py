import zlib

import numpy as np
import pytest

from hivla.utils.png import write_png
from hivla.utils.video import read_mp4, write_mp4


def test_png_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (7, 5, 3), dtype=np.uint8)
    path = write_png(img, tmp_path / "a.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(7, 1 + 5 * 3)
    np.testing.assert_array_equal(raw[:, 1:].reshape(7, 5, 3), img)
    with pytest.raises(ValueError, match="uint8"):
        write_png(img.astype(np.float32), tmp_path / "b.png")


def test_mp4_round_trip_within_codec_tolerance(tmp_path):
    frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)]
    path = write_mp4(frames, tmp_path / "v.mp4", fps=10, crf=10)
    back = read_mp4(path)
    assert back.shape == (5, 32, 48, 3)
    assert np.abs(back.astype(int) - np.stack(frames).astype(int)).mean() < 3
    with pytest.raises(ValueError, match="no frames"):
        write_mp4([], tmp_path / "e.mp4", fps=10)
