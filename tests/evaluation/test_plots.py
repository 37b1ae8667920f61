import xml.etree.ElementTree as ET

from hivla.evaluation.plots import bar_chart, histogram_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("class") == "plot"
    return root


def test_grouped_bars_with_intervals():
    svg = bar_chart(
        "demo", "Success <by> length", ["1", "2", "3"], {"a": [0.9, 0.5, 0.1], "b": [1.0, 0.0, 0.3]},
        {"a": [[0.8, 1.0], [0.3, 0.7], [0.0, 0.3]]},
    )  # fmt: skip
    root = _parse(svg)
    assert root.get("data-plot") == "demo" and root.find(f"{SVG}title").text == "Success <by> length"
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 6
    assert len(list(root.iter(f"{SVG}path"))) == 3  # whiskers for series a only
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    # order: per category, series a then b -> a1=0.9, b1=1.0, a2=0.5, b2=0.0, a3=0.1, b3=0.3
    assert heights[1] > heights[0] > heights[2] > heights[5] > heights[4] > heights[3] == 0.0


def test_missing_values_draw_no_bar():
    root = _parse(
        bar_chart("gap", "Gap", ["1", "2"], {"a": [0.5, None], "b": [0.2, 0.4]}, {"a": [[0.4, 0.6], None]})
    )
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 3


def test_histogram_and_empty_data():
    root = _parse(histogram_chart("lat", "Latency", [0.1, 0.2, 0.4, 0.8], [3, 0, 1], "ms"))
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 3
    for svg in (bar_chart("e", "Empty", [], {}), histogram_chart("h", "Empty", [], [])):
        assert "no data" in svg and _parse(svg) is not None


def test_lines_with_interval_bars_break_at_missing_values():
    svg = line_chart(
        "lines", "Success vs chain length", ["1", "2", "3"], {"flat": [0.9, 0.5, 0.1], "hier": [1.0, None, 0.4]},
        {"flat": [[0.8, 1.0], [0.3, 0.7], [0.0, 0.3]], "hier": [[0.9, 1.0], None, [0.2, 0.6]]},
    )  # fmt: skip
    root = _parse(svg)
    kinds = [e.get("class") for e in root.iter() if e.get("class") in ("line", "interval", "point")]
    assert kinds.count("point") == 5 and kinds.count("interval") == 5
    assert kinds.count("line") == 2  # flat 1-2 and 2-3; hier has no value at 2, so no segment
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2]  # flat falls with chain length (SVG y grows downwards)
