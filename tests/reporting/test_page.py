"""The page with cards, charts and video figures: one document, nothing outside the file."""

from html.parser import HTMLParser

from hivla.reporting import (
    VIDEO_STATE_SCRIPT,
    cards,
    html_page,
    plots,
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
