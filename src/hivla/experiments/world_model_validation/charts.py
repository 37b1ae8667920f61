"""The world-model experiment report: tables, inline SVG charts and real-vs-imagined frame grids in
one self-contained HTML file (the evaluation report's CSS and bar charts, plus the line and
scatter charts this experiment needs), and the same charts as files for the docs."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np

from hivla.evaluation.plots import PALETTE, bar_chart
from hivla.evaluation.report import CSS

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 52

__all__ = ["bar_chart", "frame_grid_png", "html_page", "line_chart", "png_data_uri", "scatter_chart", "table"]


def _text(x: float, y: float, s: str, size: int = 11, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {extra}>{escape(s)}</text>'
    )


def _svg(plot_id: str, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{escape(plot_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif">'
        f'<title>{escape(title)}</title><rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>'
        + _text(WIDTH / 2, 18, title, 13, extra='font-weight="bold"')
        + "".join(body)
        + "</svg>"
    )


def _axes(lo: float, hi: float, y_label: str, x_label: str) -> tuple[list[str], Any]:
    plot_h = HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / max(hi - lo, 1e-12))

    body = []
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        body.append(_text(LEFT - 4, y(v) + 4, f"{v:.3g}", 10, "end"))
    body.append(
        _text(14, TOP + plot_h / 2, y_label, 11, extra=f'transform="rotate(-90 14 {TOP + plot_h / 2})"')
    )
    body.append(_text(LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT - 10, x_label, 11))
    return body, y


def _legend(names: Sequence[str]) -> list[str]:
    out, x = [], LEFT
    for i, name in enumerate(names):
        out.append(
            f'<rect x="{x}" y="{TOP - 14}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        out.append(_text(x + 14, TOP - 5, name, 10, "start"))
        x += 14 + 7 * len(name) + 16
    return out


def line_chart(
    plot_id: str,
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    y_label: str = "",
    x_label: str = "",
    reference: float | None = None,
) -> str:
    """Lines over categorical x positions; ``None`` values are skipped; ``reference`` draws a dashed line."""
    values = [v for s in series.values() for v in s if v is not None and np.isfinite(v)]
    if not values or not x_labels:
        return _svg(plot_id, title, [_text(WIDTH / 2, HEIGHT / 2, "no data")])
    lo = min([*values, reference if reference is not None else min(values), 0.0])
    hi = max([*values, reference if reference is not None else max(values)]) * 1.1 or 1.0
    body, y = _axes(lo, hi, y_label, x_label)
    plot_w = WIDTH - LEFT - RIGHT
    step = plot_w / max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(x_labels) > 1 else LEFT + plot_w / 2

    for i, lab in enumerate(x_labels):
        body.append(_text(x(i), HEIGHT - BOTTOM + 16, lab, 10))
    if reference is not None:
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(reference):.1f}" y2="{y(reference):.1f}" '
            'stroke="#444" stroke-dasharray="5,4"/>'
        )
    for si, (name, vals) in enumerate(series.items()):
        colour = PALETTE[si % len(PALETTE)]
        pts = [(x(i), y(v)) for i, v in enumerate(vals) if v is not None and np.isfinite(v)]
        if len(pts) > 1:
            path = "M" + "L".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            body.append(f'<path d="{path}" stroke="{colour}" stroke-width="2" fill="none"/>')
        body += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{escape(name)}</title></circle>'
            for px, py in pts
        ]
    body += _legend(list(series))
    return _svg(plot_id, title, body)


def scatter_chart(
    plot_id: str,
    title: str,
    x: Sequence[float],
    groups: Sequence[int],
    group_names: Sequence[str],
    x_label: str = "",
) -> str:
    """Points along x in one row per group (with a little vertical jitter), e.g. per-episode errors
    of successful vs failed episodes."""
    xs = np.asarray(x, np.float64)
    if xs.size == 0:
        return _svg(plot_id, title, [_text(WIDTH / 2, HEIGHT / 2, "no data")])
    lo, hi = float(xs.min()), float(xs.max())
    span = hi - lo or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT - 60, HEIGHT - TOP - BOTTOM
    left = LEFT + 60
    rng = np.random.default_rng(0)
    body = []
    rows = len(group_names)
    for gi, name in enumerate(group_names):
        cy = TOP + plot_h * (gi + 0.5) / rows
        body.append(_text(left - 6, cy + 4, name, 11, "end"))
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="#eee"/>')
    for xv, g in zip(xs, groups, strict=True):
        cx = left + plot_w * (xv - lo) / span
        cy = TOP + plot_h * (g + 0.5) / rows + rng.uniform(-0.25, 0.25) * plot_h / rows
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{PALETTE[g % len(PALETTE)]}" fill-opacity="0.7"/>'
        )
    for i in range(5):
        v = lo + span * i / 4
        body.append(_text(left + plot_w * i / 4, HEIGHT - BOTTOM + 16, f"{v:.3g}", 10))
    body.append(_text(left + plot_w / 2, HEIGHT - 10, x_label, 11))
    return _svg(plot_id, title, body)


def frame_grid_png(rows: Sequence[Sequence[np.ndarray]], labels: Sequence[str], scale: int = 3) -> bytes:
    """A PNG of frame rows (uint8[H, W, 3] each, same size), each row labelled on its left."""
    from PIL import Image, ImageDraw

    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    label_w, pad = 110, 2
    canvas = Image.new("RGB", (label_w + cols * (w * scale + pad), len(rows) * (h * scale + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for ri, (row, label) in enumerate(zip(rows, labels, strict=True)):
        y0 = ri * (h * scale + pad)
        draw.text((4, y0 + h * scale // 2 - 6), label, fill=(0, 0, 0))
        for ci, frame in enumerate(row):
            img = Image.fromarray(np.asarray(frame, np.uint8)).resize((w * scale, h * scale), Image.NEAREST)
            canvas.paste(img, (label_w + ci * (w * scale + pad), y0))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table; the first column is left-aligned; cells are escaped text."""
    head = "".join(f'<th class="{"l" if i == 0 else ""}">{escape(str(h))}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i == 0 else ""}">{escape(str(c))}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(title: str, sections: Sequence[str]) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><h1>{escape(title)}</h1>{''.join(sections)}</body></html>"
    )
