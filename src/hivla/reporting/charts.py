"""Charts drawn with matplotlib and returned as inline SVG: grouped bars and lines with [lo, hi]
intervals, histograms, strip plots.

Every chart is ``<svg class="plot" data-plot="<id>">`` with a ``<title>``, so that a report (and its
tests) can find it. Text stays text (searchable, sharp at any zoom); element ids are prefixed with
the chart id so that many charts can share one page; and the SVG has no links to anything outside
itself. Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot): the user's
backend and open figures are left alone, and the style is applied only while a chart is drawn.
Drawn elements carry ids a test can count: ``<id>-bar-<series>-<category>``,
``<id>-interval-<series>`` (and its ``-cap<k>``), ``<id>-line-<series>``, ``<id>-point-<group>``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PALETTE = ("#3b6fb6", "#e0873a", "#4aa35a", "#c4453f", "#8a62b8", "#7f7f7f")
SIZE = (5.6, 3.2)  # inches; at 72 pt per inch the SVG is 403 x 230 pt: two fit side by side on a page
STYLE = {
    "font.size": 9,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "svg.fonttype": "none",  # <text>, not glyph outlines
    "text.parse_math": False,  # a "$" in a name is a dollar sign, not TeX
}
Interval = Sequence[float] | None


@contextmanager
def _style(plot_id: str) -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context({**STYLE, "svg.hashsalt": plot_id}):  # salt: same ids for same input
        yield


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, layout="constrained")
    return fig, fig.subplots()


def to_svg(fig: Figure, plot_id: str, title: str) -> str:
    """The figure as an inline ``<svg class="plot" data-plot=plot_id>`` element."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and the DTD link
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("xlink:href=", "href=")
    svg = svg.replace("*{stroke-linejoin", "svg.plot *{stroke-linejoin")  # inline, "*" would style the page
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", plot_id)
    svg = re.sub(r'\bid="', f'id="{prefix}-', svg)
    svg = re.sub(r'(href="#|url\(#)', rf"\1{prefix}-", svg)
    head, rest = svg.split(">", 1)
    size = dict(re.findall(r'(width|height|viewBox)="([^"]*)"', head))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{escape(plot_id)}" '
        f'width="{size["width"]}" height="{size["height"]}" viewBox="{size["viewBox"]}" role="img">'
        f"<title>{escape(title)}</title>{rest.strip()}"
    )


def _category_axis(ax: Axes, categories: Sequence[str], x_label: str) -> None:
    labels = [c if len(c) <= 18 else c[:17] + "…" for c in categories]
    crowded = max(map(len, labels)) * len(labels) > 48
    ax.set_xticks(
        range(len(labels)), labels, rotation=25 if crowded else 0, ha="right" if crowded else "center"
    )
    ax.set_xlabel(x_label)


def _finish(
    fig: Figure, ax: Axes, plot_id: str, title: str, y_label: str, names: Sequence[str], percent: bool
) -> str:
    """Y axis format and label, title, a legend above the plot when there are several series; the SVG."""
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_ylabel(y_label)
    fig.suptitle(title)
    if len(names) > 1:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(names), 3))
    return to_svg(fig, plot_id, title)


def _no_data(plot_id: str, title: str) -> str:
    with _style(plot_id):
        fig, ax = _figure()
        fig.suptitle(title)
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#666666")
        return to_svg(fig, plot_id, title)


def _interval_bars(
    ax: Axes,
    xs: Sequence[float],
    values: Sequence[float],
    intervals: Sequence[Interval],
    colour: str,
    gid: str,
) -> None:
    """[lo, hi] whiskers with caps at the points that have an interval (None: none) and a finite value."""
    shown = [
        (x, v, iv)
        for x, v, iv in zip(xs, values, intervals, strict=True)
        if iv is not None and np.isfinite(v)
    ]
    if shown:
        x, v, iv = zip(*shown, strict=True)
        lo_hi = np.asarray(iv, np.float64)  # (n, 2)
        below_above = np.clip([np.subtract(v, lo_hi[:, 0]), lo_hi[:, 1] - v], 0.0, None)  # (2, n)
        bars = ax.errorbar(x, v, below_above, fmt="none", ecolor=colour, elinewidth=1.2, capsize=3)
        bars.lines[2][0].set_gid(gid)  # the vertical lines; ids must stay unique, so the caps get their own
        for k, cap in enumerate(bars.lines[1]):
            cap.set_gid(f"{gid}-cap{k}")


def _value_labels(
    ax: Axes, xs: Sequence[float], values: Sequence[float], intervals: Sequence[Interval], percent: bool
) -> None:
    """Each value written above its bar, or above its whisker when it has one."""
    for x, v, iv in zip(xs, values, intervals, strict=True):
        top = v if iv is None else max(v, iv[1])
        text = f"{v:.0%}" if percent else f"{v:.3g}"
        ax.annotate(
            text, (x, top), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7.5
        )


def bar_chart(
    plot_id: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    intervals: dict[str, Sequence[Interval]] | None = None,
    y_label: str = "",
    y_max: float | None = 1.0,
    percent: bool = True,
    reference: float | None = None,
) -> str:
    """Grouped bars: one group per category, one bar per series (None: no bar), optional [lo, hi]
    whiskers; values are written on the bars when there are at most 16. ``y_max=None`` scales to the
    data (whiskers included); ``reference`` draws a dashed horizontal line (e.g. 1.0 for a ratio)."""
    names = list(series)
    if not categories or not names:
        return _no_data(plot_id, title)
    labelled = len(names) * len(categories) <= 16
    width = 0.8 / len(names)
    with _style(plot_id):
        fig, ax = _figure()
        for si, name in enumerate(names):
            cis = [ci for ci, v in enumerate(series[name]) if v is not None]
            xs = [ci - 0.4 + (si + 0.5) * width for ci in cis]
            values = [float(series[name][ci]) for ci in cis]
            given = (
                [intervals[name][ci] for ci in cis] if intervals and name in intervals else [None] * len(cis)
            )
            bars = ax.bar(xs, values, width * 0.92, color=PALETTE[si % len(PALETTE)], label=name[:40])
            for ci, patch in zip(cis, bars.patches, strict=True):
                patch.set_gid(f"bar-{si}-{ci}")
            _interval_bars(ax, xs, values, given, "#222222", f"interval-{si}")
            if labelled:
                _value_labels(ax, xs, values, given, percent)
        if reference is not None:
            ax.axhline(reference, color="#444444", ls="--", lw=1, gid="reference")
        _category_axis(ax, categories, "")
        highs = [v for vs in series.values() for v in vs if v is not None] + [reference or 0.0]
        highs += [iv[1] for ivs in (intervals or {}).values() for iv in ivs if iv is not None]
        top = y_max or max(highs, default=0.0) * 1.15
        ax.set_ylim(0.0, (top or 1.0) * (1.08 if labelled else 1.0))  # room for the value labels
        return _finish(fig, ax, plot_id, title, y_label, names, percent)


def line_chart(
    plot_id: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    intervals: dict[str, Sequence[Interval]] | None = None,
    y_label: str = "",
    x_label: str = "",
    y_max: float | None = 1.0,
    percent: bool = True,
    reference: float | None = None,
) -> str:
    """One line per series over categorical x positions, with [lo, hi] interval bars; a None value
    breaks the line. Series are nudged apart so their intervals do not hide each other.
    ``y_max=None`` scales to the data; ``reference`` draws a dashed horizontal line (e.g. 1.0 for a ratio)."""
    names = list(series)
    finite = [v for vs in series.values() for v in vs if v is not None and np.isfinite(v)]
    if not categories or not finite:
        return _no_data(plot_id, title)
    with _style(plot_id):
        fig, ax = _figure()
        for si, name in enumerate(names):
            nudge = (si - (len(names) - 1) / 2) * min(0.06, 0.3 / len(names))
            xs = np.arange(len(categories)) + nudge
            ys = np.array([np.nan if v is None else float(v) for v in series[name]])  # NaN breaks the line
            colour = PALETTE[si % len(PALETTE)]
            ax.plot(xs, ys, "-o", color=colour, lw=2, ms=5, label=name[:40], gid=f"line-{si}")
            if intervals and name in intervals:
                _interval_bars(ax, xs, ys, intervals[name], colour, f"interval-{si}")
        if reference is not None:
            ax.axhline(reference, color="#444444", ls="--", lw=1, gid="reference")
        _category_axis(ax, categories, x_label)
        if y_max is not None:
            ax.set_ylim(0.0, y_max * 1.05)
        elif min(finite) >= 0:
            ax.set_ylim(bottom=0.0)
        return _finish(fig, ax, plot_id, title, y_label, names, percent)


def histogram_chart(
    plot_id: str,
    title: str,
    edges: Sequence[float],
    counts: Sequence[int],
    x_label: str = "",
    y_label: str = "count",
) -> str:
    """Bars of ``counts`` between consecutive ``edges``; a log x axis when the edges are log-spaced."""
    if not counts:
        return _no_data(plot_id, title)
    e = np.asarray(edges, np.float64)
    with _style(plot_id):
        fig, ax = _figure()
        log = bool(e[0] > 0 and len(e) > 2 and np.allclose(e[2:] / e[1:-1], e[1] / e[0]))
        bars = ax.bar(e[:-1], counts, np.diff(e), align="edge", color=PALETTE[0], edgecolor="white", lw=0.5)
        for i, patch in enumerate(bars.patches):
            patch.set_gid(f"bar-0-{i}")
        if log:
            from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))  # 0.2, not 2x10^-1
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(e[0], e[-1])
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        fig.suptitle(title)
        return to_svg(fig, plot_id, title)


def strip_chart(
    plot_id: str,
    title: str,
    x: Sequence[float],
    groups: Sequence[int],
    group_names: Sequence[str],
    x_label: str = "",
) -> str:
    """Points along x in one row per group (with a little seeded vertical jitter), e.g. per-episode
    errors of successful vs failed episodes."""
    xs, gs = np.asarray(x, np.float64), np.asarray(groups, np.int64)
    if xs.size == 0:
        return _no_data(plot_id, title)
    if xs.shape != gs.shape:
        raise ValueError(f"x and groups must have one entry per point, got {xs.shape} and {gs.shape}")
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, xs.size)
    with _style(plot_id):
        fig, ax = _figure()
        for gi in range(len(group_names)):
            inside = gs == gi
            ax.scatter(xs[inside], gi + jitter[inside], s=16, alpha=0.7, color=PALETTE[gi % len(PALETTE)],
                       gid=f"point-{gi}")  # fmt: skip
        ax.set_yticks(range(len(group_names)), group_names)
        ax.set_ylim(-0.6, len(group_names) - 0.4)
        ax.grid(axis="x", color="#eeeeee")
        ax.set_xlabel(x_label)
        fig.suptitle(title)
        return to_svg(fig, plot_id, title)


def heatmap_chart(
    plot_id: str,
    title: str,
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float | None]],
    x_label: str = "",
    y_label: str = "",
    vmin: float = 0.0,
    vmax: float = 1.0,
    fmt: str = "{:.2f}",
) -> str:
    """A matrix of ``values[row][col]`` as coloured cells with the value written in each (None: a
    grey cell marked "–"), colours clipped to [vmin, vmax]. Cells carry ids ``<id>-cell-<r>-<c>``."""
    v = np.array([[np.nan if x is None else float(x) for x in r] for r in values], np.float64)
    if not rows or not cols or v.shape != (len(rows), len(cols)):
        return _no_data(plot_id, title)
    with _style(plot_id):
        import matplotlib

        fig, ax = _figure()
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")
        image = ax.imshow(np.ma.masked_invalid(np.clip(v, vmin, vmax)), cmap=cmap, vmin=vmin, vmax=vmax,
                          aspect="auto")  # fmt: skip
        for r in range(len(rows)):
            for c in range(len(cols)):
                value = v[r, c]
                light = np.isfinite(value) and (value - vmin) / max(vmax - vmin, 1e-12) < 0.6
                text = "–" if not np.isfinite(value) else fmt.format(value)
                ax.text(c, r, text, ha="center", va="center", color="white" if light else "black",
                        gid=f"cell-{r}-{c}")  # fmt: skip
        ax.set_xticks(range(len(cols)), list(cols))
        ax.set_yticks(range(len(rows)), list(rows))
        ax.grid(False)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        fig.colorbar(image, ax=ax, shrink=0.85)
        fig.suptitle(title)
        return to_svg(fig, plot_id, title)
