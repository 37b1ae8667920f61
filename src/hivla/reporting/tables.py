"""Tables (HTML and Markdown) and headline cards; every cell is text, escaped for HTML."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    """An HTML table; the first column is left-aligned, the others right-aligned (numbers)."""

    def cell(tag: str, i: int, value: Any) -> str:
        return f'<{tag} class="{"l" if i == 0 else ""}">{escape(str(value))}</{tag}>'

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="{escape(cls)}"><tr>{head}</tr>{body}</table>'


def markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """The same table as GitHub Markdown (for ``summary.md`` files next to a report)."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def cards(items: Sequence[tuple[str, str, str]]) -> str:
    """Headline numbers as a row of cards, each (name, value, note)."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card">{escape(k)}<b>{escape(v)}</b><span class="muted">{escape(d)}</span></div>'
            for k, v, d in items
        )
        + "</div>"
    )
