"""Charts: matplotlib SVG that a page can inline (class, id, title, no outside links, unique ids) with
the bars, lines, intervals, ticks and legends the data asks for."""

import re
import xml.etree.ElementTree as ET

import pytest

from hivla.reporting.charts import bar_chart, heatmap_chart, histogram_chart, line_chart, strip_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str, plot_id: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("class") == "plot" and root.get("data-plot") == plot_id
    return root


def _ids(root: ET.Element, prefix: str) -> list[ET.Element]:
    return [e for e in root.iter() if (e.get("id") or "").startswith(prefix)]


def _texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def _height(group: ET.Element) -> float:
    """Height in SVG units of the rectangle path inside a bar's group."""
    path = next(group.iter(f"{SVG}path"))
    ys = [float(y) for y in re.findall(r"[-\d.]+ ([-\d.]+)", path.get("d"))]
    return max(ys) - min(ys)


def test_grouped_bars_with_intervals_ticks_and_legend():
    svg = bar_chart(
        "demo", "Success <by> length", ["1", "2", "3"], {"a": [0.9, 0.5, 0.1], "b": [1.0, 0.0, 0.3]},
        {"a": [[0.8, 1.0], [0.3, 0.7], [0.0, 0.3]]}, y_label="success rate",
    )  # fmt: skip
    root = _parse(svg, "demo")
    assert root.find(f"{SVG}title").text == "Success <by> length"
    bars = {e.get("id"): e for e in _ids(root, "demo-bar-")}
    assert len(bars) == 6
    whiskers = [e for e in _ids(root, "demo-interval-") if "cap" not in e.get("id")]
    assert [w.get("id") for w in whiskers] == ["demo-interval-0"]  # series a only
    assert len(list(whiskers[0].iter(f"{SVG}path"))) == 3  # one vertical line per category
    h = {k.removeprefix("demo-bar-"): _height(v) for k, v in bars.items()}
    assert h["1-0"] > h["0-0"] > h["0-1"] > h["1-2"] > h["0-2"] > h["1-1"] == 0.0
    texts = _texts(root)
    assert {"0%", "50%", "100%"} <= set(texts)  # y ticks as percentages
    assert {"1", "2", "3", "a", "b", "success rate"} <= set(texts)  # x ticks, legend, axis label
    assert "90%" in texts  # value labels on the bars


def test_missing_values_draw_no_bar_and_one_series_has_no_legend():
    root = _parse(
        bar_chart("gap", "Gap", ["1", "2"], {"a": [0.5, None], "b": [0.2, 0.4]}, {"a": [[0.4, 0.6], None]}),
        "gap",
    )
    assert sorted(e.get("id") for e in _ids(root, "gap-bar-")) == [
        "gap-bar-0-0",
        "gap-bar-1-0",
        "gap-bar-1-1",
    ]
    single = _parse(bar_chart("one", "One", ["x", "y"], {"only": [0.5, 0.2]}), "one")
    assert "only" not in _texts(single)


def test_histogram_and_empty_data():
    root = _parse(histogram_chart("lat", "Latency", [0.1, 0.2, 0.4, 0.8], [3, 0, 1], "ms", "steps"), "lat")
    assert len(_ids(root, "lat-bar-")) == 3
    assert {"ms", "steps", "0.2"} <= set(_texts(root))  # log axis ticks read as plain numbers
    for svg, pid in (
        (bar_chart("e", "Empty", [], {}), "e"),
        (histogram_chart("h", "Empty", [], []), "h"),
        (line_chart("l", "Empty", ["1"], {"a": [None]}), "l"),
        (strip_chart("s", "Empty", [], [], ["a"]), "s"),
    ):
        assert "no data" in _texts(_parse(svg, pid))


def test_lines_with_interval_bars_break_at_missing_values():
    svg = line_chart(
        "lines", "Success vs chain length", ["1", "2", "3"], {"flat": [0.9, 0.5, 0.1], "hier": [1.0, None, 0.4]},
        {"flat": [[0.8, 1.0], [0.3, 0.7], [0.0, 0.3]], "hier": [[0.9, 1.0], None, [0.2, 0.6]]},
        x_label="chain length",
    )  # fmt: skip
    root = _parse(svg, "lines")
    flat, hier = (_ids(root, f"lines-line-{i}")[0] for i in range(2))
    points = [len(list(g.iter(f"{SVG}use"))) for g in (flat, hier)]
    assert points == [3, 2]  # one marker per value
    drawn = [
        next(p for p in g.iter(f"{SVG}path") if "stroke-width: 2" in (p.get("style") or ""))
        for g in (flat, hier)
    ]
    assert [p.get("d").count("L") for p in drawn] == [2, 0]  # hier has no value at 2: no segment
    whiskers = [len(list(_ids(root, f"lines-interval-{i}")[0].iter(f"{SVG}path"))) for i in range(2)]
    assert whiskers == [3, 2]
    ys = [float(u.get("y")) for u in flat.iter(f"{SVG}use")]
    assert ys[0] < ys[1] < ys[2]  # flat falls with chain length (SVG y grows downwards)
    assert {"flat", "hier", "chain length", "100%"} <= set(_texts(root))


def test_a_reference_line_and_a_free_y_axis():
    root = _parse(
        line_chart("ratio", "Ratio", ["0", "1"], {"a": [0.5, 1.4]}, y_max=None, percent=False, reference=1.0),
        "ratio",
    )
    assert _ids(root, "ratio-reference")
    assert "1.4" in _texts(root) or "1.5" in _texts(root)  # the axis reaches past 1


def test_bars_with_a_reference_line_keep_their_whiskers_in_view():
    svg = bar_chart("ratios", "Ratios", ["a", "b"], {"x": [0.5, 0.9]}, {"x": [[0.2, 0.8], [0.5, 2.2]]},
                    y_max=None, percent=False, reference=1.0)  # fmt: skip
    root = _parse(svg, "ratios")
    assert _ids(root, "ratios-reference")
    assert "2.0" in _texts(root) or "2.5" in _texts(root)  # the axis reaches the highest whisker


def test_strip_chart_puts_each_group_on_its_row():
    root = _parse(
        strip_chart("strip", "Errors", [0.1, 0.2, 0.5], [0, 0, 1], ["success", "failed"], "error"), "strip"
    )
    assert [len(list(_ids(root, f"strip-point-{g}")[0].iter(f"{SVG}use"))) for g in (0, 1)] == [2, 1]
    assert {"success", "failed", "error"} <= set(_texts(root))
    with pytest.raises(ValueError, match="one entry per point"):
        strip_chart("bad", "Bad", [0.1, 0.2], [0], ["a"])


def test_charts_share_a_page_without_id_clashes_or_outside_links():
    def both(plot_id: str) -> str:
        series, cis = (
            {"s": [0.5, 0.7], "t": [0.2, None]},
            {"s": [[0.4, 0.6], [0.6, 0.8]], "t": [[0.1, 0.3], None]},
        )
        return bar_chart(plot_id, "A", ["x", "y"], series, cis) + line_chart(
            f"{plot_id}l", "A", ["x", "y"], series, cis
        )

    page = both("one") + both("two")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', page)
    assert refs and set(refs) <= set(ids)  # every internal reference resolves
    assert page.replace("http://www.w3.org/2000/svg", "").count("http") == 0
    assert both("one") == page[: len(page) // 2]  # deterministic


def test_charts_leave_the_users_matplotlib_state_alone():
    import matplotlib

    before = (matplotlib.get_backend(), matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.fonttype"])
    bar_chart("x", "X", ["a"], {"s": [0.5]})
    after = (matplotlib.get_backend(), matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.fonttype"])
    assert after == before


def test_heatmap_writes_every_cell_and_greys_missing_ones():
    svg = heatmap_chart("hm", "R² matrix", ["a", "b"], ["x", "y", "z"], [[0.9, None, -0.5], [0.1, 0.5, 1.0]],
                        x_label="scored on", y_label="fitted on")  # fmt: skip
    root = _parse(svg, "hm")
    assert len(_ids(root, "hm-cell-")) == 6
    texts = _texts(root)
    assert {"0.90", "–", "-0.50", "0.10", "0.50", "1.00"} <= set(texts) and "fitted on" in texts
    assert "no data" in _texts(_parse(heatmap_chart("e", "empty", [], [], []), "e"))
