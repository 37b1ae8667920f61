import numpy as np
import pytest

from hivla.utils.video import read_mp4, write_mp4


def test_mp4_round_trip_within_codec_tolerance(tmp_path):
    frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)]
    path = write_mp4(frames, tmp_path / "v.mp4", fps=10, crf=10)
    back = read_mp4(path)
    assert back.shape == (5, 32, 48, 3)
    assert np.abs(back.astype(int) - np.stack(frames).astype(int)).mean() < 3
    with pytest.raises(ValueError, match="no frames"):
        write_mp4([], tmp_path / "e.mp4", fps=10)
