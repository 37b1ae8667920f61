import numpy as np
import pytest

from hivla.reporting.text import draw_text, text_panel, text_width, wrap


def test_wrap_fits_the_pixel_width_and_keeps_every_word():
    text = "pick up the red cube and place it in the bowl"
    lines = wrap(text, 60, 11)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(text_width(line, 11) <= 60 for line in lines)
    assert wrap("pick up the red cube", 1000, 11) == ["pick up the red cube"]


def test_wrap_cuts_a_word_longer_than_a_line():
    lines = wrap("abcdefghijklmnopqrstuvwxyz", 40, 11)
    assert "".join(lines) == "abcdefghijklmnopqrstuvwxyz" and len(lines) > 1
    assert all(text_width(line, 11) <= 40 for line in lines)
    with pytest.raises(ValueError, match="at least one letter"):
        wrap("x", 1, 11)


def test_draw_text_inks_a_copy_in_the_given_colour_and_cuts_at_the_edges():
    img = np.zeros((16, 30, 3), np.uint8)
    out = draw_text(img, [("hello world", (255, 0, 0))], 2, 1, 11, 13)  # runs past the right edge: cut
    assert not img.any() and out.shape == img.shape
    assert out[..., 0].any() and not out[..., 1:].any()
    assert not draw_text(img, [("x", (255, 255, 255))], 50, 50, 11, 13).any()  # fully outside


def test_text_panel_height_depends_only_on_the_line_budget():
    short = text_panel(["a"], 200, size=12, max_lines=3)
    long = text_panel(["a long line of words " * 20], 200, size=12, max_lines=3)
    assert short.shape == long.shape == (6 + 3 * 15, 200, 3)
    assert (long != long[0, 0]).any(axis=-1).sum() > (short != short[0, 0]).any(axis=-1).sum()
