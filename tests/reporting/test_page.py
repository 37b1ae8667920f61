"""Page, tables and video figures: one document, escaped text, nothing outside the file."""

from html.parser import HTMLParser

from hivla.reporting import (
    VIDEO_STATE_SCRIPT,
    cards,
    html_page,
    markdown_table,
    plots,
    table,
    video_figure,
    videos,
)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_table_escapes_cells_and_left_aligns_the_first_column():
    html = table(["name", "value"], [["<b>", 1.5], ["x & y", None]], cls="config")
    assert "&lt;b&gt;" in html and "x &amp; y" in html and "<b>" not in html
    tags = _tags(html)
    assert tags[0] == ("table", {"class": "config"})
    assert [a["class"] for t, a in tags if t == "td"] == ["l", "", "l", ""]


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_page_is_one_self_contained_document():
    figure = video_figure(b"\x00\x01", "<b>ok</b>", "videos/ep0.mp4", outcome="success")
    html = html_page(
        "A <title>", [cards([("success", "50%", "n=2")]), plots(["<svg></svg>"]), videos([figure])],
        scripts=[VIDEO_STATE_SCRIPT],
    )  # fmt: skip
    assert html.startswith("<!DOCTYPE html>") and html.count("<h1>A &lt;title&gt;</h1>") == 1
    tags = _tags(html)
    video = next(a for t, a in tags if t == "video")
    assert video["src"] == "data:video/mp4;base64,AAE=" and "muted" in video and "loop" in video
    assert ("figure", {"data-outcome": "success"}) in tags
    assert "videos/ep0.mp4" in html and "<b>ok</b>" in html  # caption HTML kept as given
    assert not [t for t, a in tags if t in ("link", "img", "iframe") or (t == "script" and "src" in a)]
    assert "dataset.state" in html and "http" not in html
