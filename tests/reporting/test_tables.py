"""Tables: escaped cells, the first column left-aligned; the same rows as Markdown."""

import re

from hivla.reporting import cards, markdown_table, table


def test_table_escapes_cells_and_left_aligns_the_first_column():
    html = table(["name", "value"], [["<b>", 1.5], ["x & y", None]], cls="config")
    assert "&lt;b&gt;" in html and "x &amp; y" in html and "<b>" not in html
    assert html.startswith('<table class="config"><tr><th class="l">name</th><th class="">value</th></tr>')
    assert re.findall(r'<td class="([^"]*)">', html) == ["l", "", "l", ""]
    assert '<td class="">None</td>' in html  # every cell is text


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_cards_escape_their_text():
    html = cards([("success <rate>", "50%", "n=2 & more")])
    assert html.count('class="card"') == 1 and "success &lt;rate&gt;" in html and "<b>50%</b>" in html
    assert "n=2 &amp; more" in html
