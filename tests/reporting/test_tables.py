"""Tables: escaped cells, the first column left-aligned; the same rows as Markdown."""

from html.parser import HTMLParser

from hivla.reporting import markdown_table, table


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_table_escapes_cells_and_left_aligns_the_first_column():
    html = table(["name", "value"], [["<b>", 1.5], ["x & y", None]], cls="config")
    assert "&lt;b&gt;" in html and "x &amp; y" in html and "<b>" not in html
    parser = _Tags()
    parser.feed(html)
    tags = parser.tags
    assert tags[0] == ("table", {"class": "config"})
    assert [a["class"] for t, a in tags if t == "td"] == ["l", "", "l", ""]


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"
