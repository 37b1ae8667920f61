"""A 5x7 bitmap font for printable ASCII, drawn into uint8 images with numpy (no imaging library).

Each glyph is seven rows of five bits written as two hex digits per row (bit 4 = left column).
Cells are 6x8 pixels (one column and one row of spacing); ``scale`` enlarges them by an integer.
Characters without a glyph are drawn as ``?``.
"""

from __future__ import annotations

import numpy as np

CELL_W, CELL_H = 6, 8

_ROWS = {
    " ": "00000000000000", "!": "04040404040004", '"': "0A0A0000000000", "#": "0A0A1F0A1F0A0A",
    "$": "040F140E051E04", "%": "18190204081303", "&": "0C12140815120D", "'": "04040000000000",
    "(": "02040808080402", ")": "08040202020408", "*": "0004150E150400", "+": "0004041F040400",
    ",": "000000000C0408", "-": "0000001F000000", ".": "00000000000C0C", "/": "00010204081000",
    "0": "0E11131519110E", "1": "040C040404040E", "2": "0E11010204081F",
    "3": "1F02040201110E", "4": "02060A121F0202", "5": "1F101E0101110E",
    "6": "0608101E11110E", "7": "1F010204080808", "8": "0E11110E11110E", "9": "0E11110F01020C",
    ":": "000C0C000C0C00", ";": "000C0C000C0408", "<": "02040810080402", "=": "00001F001F0000",
    ">": "08040201020408", "?": "0E110102040004", "@": "0E11010D15150E",
    "A": "0E11111F111111", "B": "1E11111E11111E", "C": "0E11101010110E", "D": "1C12111111121C",
    "E": "1F10101E10101F", "F": "1F10101E101010", "G": "0E11101711110F", "H": "1111111F111111",
    "I": "0E04040404040E", "J": "0702020202120C", "K": "11121418141211", "L": "1010101010101F",
    "M": "111B1515111111", "N": "11111915131111", "O": "0E11111111110E", "P": "1E11111E101010",
    "Q": "0E11111115120D", "R": "1E11111E141211", "S": "0F10100E01011E", "T": "1F040404040404",
    "U": "1111111111110E", "V": "11111111110A04", "W": "1111111515150A", "X": "11110A040A1111",
    "Y": "1111110A040404", "Z": "1F01020408101F",
    "[": "0E08080808080E", "\\": "00100804020100", "]": "0E02020202020E", "^": "040A1100000000",
    "_": "0000000000001F", "`": "08040000000000",
    "a": "00000E010F110F", "b": "1010161911111E", "c": "00000E1010110E",
    "d": "01010D1311110F", "e": "00000E111F100E", "f": "0609081C080808", "g": "000F11110F010E",
    "h": "10101619111111", "i": "04000C0404040E", "j": "0200060202120C", "k": "10101214181412",
    "l": "0C04040404040E", "m": "00001A15151111", "n": "00001619111111", "o": "00000E1111110E",
    "p": "001E11111E1010", "q": "000F11110F0101", "r": "00001619101010", "s": "00000F100E011E",
    "t": "08081C08080906", "u": "0000111111130D", "v": "00001111110A04",
    "w": "0000111115150A", "x": "0000110A040A11", "y": "001111110F010E",
    "z": "00001F0204081F",
    "{": "02040408040402", "|": "04040404040404", "}": "08040402040408", "~": "00000815020000",
}  # fmt: skip


def _glyph(hex_rows: str) -> np.ndarray:
    rows = [int(hex_rows[i : i + 2], 16) for i in range(0, 14, 2)]
    return np.array([[(r >> (4 - c)) & 1 for c in range(5)] for r in rows], dtype=bool)  # (7, 5)


GLYPHS: dict[str, np.ndarray] = {ch: _glyph(rows) for ch, rows in _ROWS.items()}


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """bool[8 * scale, 6 * len(text) * scale]: True where ``text`` is inked."""
    mask = np.zeros((CELL_H, CELL_W * len(text)), dtype=bool)  # (8, 6 * n)
    for i, ch in enumerate(text):
        mask[:7, i * CELL_W : i * CELL_W + 5] = GLYPHS.get(ch, GLYPHS["?"])
    return np.kron(mask, np.ones((scale, scale), dtype=bool)) if scale > 1 else mask


def draw_text(
    image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int], scale: int = 1
) -> np.ndarray:
    """A copy of uint8[H, W, 3] ``image`` with ``text`` drawn from its top-left (x, y), cut at the edges."""
    out = image.copy()
    mask = text_mask(text, scale)
    h = max(0, min(mask.shape[0], out.shape[0] - y))
    w = max(0, min(mask.shape[1], out.shape[1] - x))
    if h and w:
        region = out[y : y + h, x : x + w]  # (h, w, 3) view into out
        region[mask[:h, :w]] = colour
    return out


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` characters, at spaces where possible."""
    if width < 1:
        raise ValueError(f"width must be >= 1 character, got {width}")
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > width:  # a word longer than a line is cut
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines
