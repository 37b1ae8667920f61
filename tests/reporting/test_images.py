import base64
import io

import numpy as np
import pytest
from PIL import Image

from hivla.reporting.images import frame_grid, image_figure, png_bytes, png_data_uri, save_png


def test_png_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (7, 5, 3), dtype=np.uint8)
    path = save_png(img, tmp_path / "sub" / "a.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data == png_bytes(img)
    back = Image.open(io.BytesIO(data))
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), img)
    with pytest.raises(ValueError, match="uint8"):
        save_png(img.astype(np.float32), tmp_path / "b.png")
    with pytest.raises(ValueError, match=r"uint8\[H, W, 3\]"):
        png_bytes(np.zeros((4, 4), np.uint8))


def test_data_uri_carries_the_bytes_into_a_figure():
    uri = png_data_uri(b"\x89PNG...")
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == b"\x89PNG..."
    figure = image_figure(b"\x89PNG...", "<i>real</i> vs imagined")
    assert f'src="{uri}"' in figure and "<figcaption><i>real</i> vs imagined</figcaption>" in figure


def test_frame_grid_scales_frames_and_labels_rows():
    red, blue = np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    grid = frame_grid([[red, red], [blue]], ["real", "imagined"], scale=2)
    assert grid.shape[0] == 2 * (4 * 2 + 2)
    label_w = grid.shape[1] - 2 * (6 * 2 + 2)
    assert (grid[:8, label_w : label_w + 12] == (255, 0, 0)).all()  # first tile, upscaled
    assert (grid[10:18, label_w : label_w + 12] == (0, 0, 255)).all()
    assert (grid[10:18, label_w + 14 :] == 255).all()  # the short row is padded with white
    assert (grid[:, :label_w] < 128).any()  # the labels are inked
    with pytest.raises(ValueError, match="one label per row"):
        frame_grid([[red]], ["a", "b"])
