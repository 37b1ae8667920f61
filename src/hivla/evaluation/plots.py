"""Plots as self-contained inline SVG strings (no plotting library): grouped bars, histograms.

Every chart is ``<svg class="plot" data-plot="<id>">`` with a ``<title>``, so a report (and its
tests) can find it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

PALETTE = ("#3b6fb6", "#e0873a", "#4aa35a", "#c4453f", "#8a62b8", "#7f7f7f")
WIDTH, HEIGHT = 520, 270
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 34, 58


def _text(x: float, y: float, s: str, size: int = 11, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {extra}>{escape(s)}</text>'
    )


def _frame(plot_id: str, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{escape(plot_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'font-family="sans-serif"><title>{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>'
        + _text(WIDTH / 2, 18, title, 13, extra='font-weight="bold"')
        + "".join(body)
        + "</svg>"
    )


def _format(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:.3g}"


def _y_axis(y, top: float, percent: bool, plot_h: float, y_label: str) -> list[str]:
    """Grid lines and 5 ticks from 0 to ``top`` (``y`` maps a value to its pixel row), and the rotated label."""
    out = []
    for i in range(5):
        v = top * i / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(_text(LEFT - 4, y(v) + 4, _format(v, percent), 10, "end"))
    if y_label:
        out.append(
            _text(12, TOP + plot_h / 2, y_label, 11, extra=f'transform="rotate(-90 12 {TOP + plot_h / 2})"')
        )
    return out


def _whisker(x: float, y_lo: float, y_hi: float, stroke: str, extra: str = "") -> str:
    """A vertical [lo, hi] interval bar with end caps at pixel column ``x``."""
    return (
        f'<path {extra}d="M{x:.1f},{y_lo:.1f}V{y_hi:.1f}M{x - 3:.1f},{y_lo:.1f}h6'
        f'M{x - 3:.1f},{y_hi:.1f}h6" stroke="{stroke}" fill="none"/>'
    )


def _legend(names: Sequence[str], plot_w: float) -> list[str]:
    """Colour swatches with the series names above the plot (only when there are several series)."""
    out = []
    if len(names) > 1:
        for si, name in enumerate(names):
            lx = LEFT + si * (plot_w / len(names))
            out.append(
                f'<rect x="{lx:.1f}" y="{TOP - 8}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
            )
            out.append(_text(lx + 14, TOP + 1, name[:40], 10, "start"))
    return out


def bar_chart(
    plot_id: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    intervals: dict[str, Sequence[Sequence[float] | None]] | None = None,
    y_label: str = "",
    y_max: float | None = 1.0,
    percent: bool = True,
) -> str:
    """Grouped bars: one group per category, one bar per series (None: no bar), optional [lo, hi] whiskers."""
    names = list(series)
    if not categories or not names:
        return _frame(plot_id, title, [_text(WIDTH / 2, HEIGHT / 2, "no data")])
    top = y_max or max((v for vs in series.values() for v in vs if v is not None), default=0.0) * 1.15 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    legend_h = 14 if len(names) > 1 else 0

    def y(v: float) -> float:
        return TOP + legend_h + (plot_h - legend_h) * (1 - min(max(v, 0.0), top) / top)

    body = _y_axis(y, top, percent, plot_h, y_label)
    group = plot_w / len(categories)
    bar = group * 0.8 / len(names)
    for ci, cat in enumerate(categories):
        x0 = LEFT + ci * group + group * 0.1
        label = cat if len(cat) <= 18 else cat[:17] + "…"
        body.append(_text(LEFT + (ci + 0.5) * group, HEIGHT - BOTTOM + 16, label, 10))
        for si, name in enumerate(names):
            if series[name][ci] is None:  # this series has no such category
                continue
            v = float(series[name][ci])
            x = x0 + si * bar
            colour = PALETTE[si % len(PALETTE)]
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(v):.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{y(0) - y(v):.1f}" fill="{colour}"><title>{escape(f"{name} {cat}: {_format(v, percent)}")}</title></rect>'
            )
            if intervals and name in intervals:
                lo, hi = intervals[name][ci]
                body.append(_whisker(x + (bar - 2) / 2, y(lo), y(hi), "#222"))
            if len(names) * len(categories) <= 16:
                body.append(_text(x + (bar - 2) / 2, y(v) - 3, _format(v, percent), 9))
    body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#444"/>')
    body.extend(_legend(names, plot_w))
    return _frame(plot_id, title, body)


def histogram_chart(
    plot_id: str, title: str, edges: Sequence[float], counts: Sequence[int], x_label: str = ""
) -> str:
    """Bars of ``counts`` between consecutive ``edges``, drawn at equal widths (log edges read well)."""
    if not counts:
        return _frame(plot_id, title, [_text(WIDTH / 2, HEIGHT / 2, "no data")])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(max(counts), 1)
    width = plot_w / len(counts)
    body = []
    for i in range(5):
        v = peak * i / 4
        yy = TOP + plot_h * (1 - i / 4)
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
        body.append(_text(LEFT - 4, yy + 4, f"{v:.0f}", 10, "end"))
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        body.append(
            f'<rect class="bar" x="{LEFT + i * width:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(width - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{edges[i]:.3g}–{edges[i + 1]:.3g}: {count}</title></rect>'
        )
    for i in range(0, len(edges), max(1, len(counts) // 4)):
        body.append(_text(LEFT + i * width, HEIGHT - BOTTOM + 16, f"{edges[i]:.3g}", 10))
    body.append(_text(LEFT + plot_w / 2, HEIGHT - BOTTOM + 34, x_label, 11))
    body.append(
        _text(14, TOP + plot_h / 2, "steps", 11, extra=f'transform="rotate(-90 14 {TOP + plot_h / 2})"')
    )
    return _frame(plot_id, title, body)


def line_chart(
    plot_id: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    intervals: dict[str, Sequence[Sequence[float] | None]] | None = None,
    y_label: str = "",
    x_label: str = "",
) -> str:
    """One line per series over categorical x positions (rates in [0, 1]) with [lo, hi] interval bars.

    Series are nudged apart horizontally so that their interval bars do not hide each other; a
    None value breaks the line.
    """
    names = list(series)
    if not categories or not names:
        return _frame(plot_id, title, [_text(WIDTH / 2, HEIGHT / 2, "no data")])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    legend_h = 14 if len(names) > 1 else 0
    step = plot_w / len(categories)

    def y(v: float) -> float:
        return TOP + legend_h + (plot_h - legend_h) * (1 - min(max(v, 0.0), 1.0))

    body = _y_axis(y, 1.0, True, plot_h, y_label)
    for ci, cat in enumerate(categories):
        body.append(_text(LEFT + (ci + 0.5) * step, HEIGHT - BOTTOM + 16, cat, 10))
    if x_label:
        body.append(_text(LEFT + plot_w / 2, HEIGHT - BOTTOM + 34, x_label, 11))
    for si, name in enumerate(names):
        colour = PALETTE[si % len(PALETTE)]
        nudge = (si - (len(names) - 1) / 2) * min(8.0, step * 0.3 / len(names))
        points = [
            (LEFT + (ci + 0.5) * step + nudge, v, ci) for ci, v in enumerate(series[name]) if v is not None
        ]
        for (x0, v0, c0), (x1, v1, c1) in itertools.pairwise(points):
            if c1 == c0 + 1:
                body.append(
                    f'<line class="line" x1="{x0:.1f}" y1="{y(v0):.1f}" x2="{x1:.1f}" y2="{y(v1):.1f}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
        for x, v, ci in points:
            interval = intervals.get(name, [None] * len(categories))[ci] if intervals else None
            if interval is not None:
                lo, hi = interval
                body.append(_whisker(x, y(lo), y(hi), colour, 'class="interval" '))
            tip = f"{name} {categories[ci]}: {v:.0%}"
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#444"/>')
    body.extend(_legend(names, plot_w))
    return _frame(plot_id, title, body)
