import numpy as np

from hivla.evaluation.overlay import BAND_LINES, LINE_H, Caption, caption_lines, compose_frame


def test_frames_keep_one_size_and_show_the_outcome():
    panel = np.full((64, 128, 3), 90, np.uint8)
    plain = Caption("Put the red cube in the bowl.", "1/2: pick up the red cube", 3, 180)
    rich = Caption(
        plain.instruction,
        plain.subtask,
        4,
        180,
        reasoning="target: red cube is 12 cm left " * 5,
        plan="pick up red",
    )
    a, b = compose_frame(panel, plain), compose_frame(panel, rich)
    assert a.shape == b.shape == (128 + BAND_LINES * LINE_H + 4, 256, 3)
    assert len(caption_lines(rich, 240)) <= BAND_LINES
    done = compose_frame(panel, Caption(plain.instruction, plain.subtask, 9, 180, outcome="dropped"))
    top = done[:4, :, :].reshape(-1, 3)
    assert (top == (190, 40, 40)).all(axis=1).mean() > 0.9  # red failure banner
    ok = compose_frame(panel, Caption(plain.instruction, plain.subtask, 9, 180, outcome="success"))
    assert (ok[:4].reshape(-1, 3) == (40, 160, 70)).all(axis=1).mean() > 0.9


def test_an_interjection_gets_its_own_caption_line_within_the_band():
    full = Caption("Put the red cube in the bowl. " * 4, "1/2: pick up the red cube", 3, 180,
                   reasoning="target: red cube is 12 cm left " * 5, plan="pick up red", interjection="open the drawer")  # fmt: skip
    lines = [text for text, _ in caption_lines(full, 240)]
    assert "human: open the drawer" in lines and lines[-1] == "step 3/180" and len(lines) == BAND_LINES
    assert all("human:" not in text for text, _ in caption_lines(Caption("a", "1/1: b", 0, 9), 240))


def test_the_target_mark_lands_where_u_v_say_and_stays_inside_the_image():
    from hivla.evaluation.overlay import MAGENTA, mark_target

    image = np.zeros((64, 64, 3), np.uint8)
    marked = mark_target(image, 47.5 / 32 - 1, 15.5 / 32 - 1)  # the centre of pixel (row 15, column 47)
    assert not image.any()  # the input is not modified
    rows, cols = np.nonzero((marked == MAGENTA).all(-1))
    assert int(np.median(rows)) == 15 and int(np.median(cols)) == 47
    corner = mark_target(image, 5.0, -5.0)  # off the image: clipped to the top-right corner
    assert (corner[0, 63] == MAGENTA).all()
