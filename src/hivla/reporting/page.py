"""The HTML page every report is: one file with inline CSS and scripts, no external resources."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#1d1d1f;background:#fafafa}
h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #ccc}
h3{font-size:1.05em}.muted{color:#666;font-size:.9em}
table{border-collapse:collapse;margin:8px 0;font-size:.9em;background:white}
th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:right}th{background:#eef1f5}
td.l,th.l,table.config td{text-align:left}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{background:white;border:1px solid #d0d0d0;border-radius:6px;padding:8px 14px;min-width:140px}
.card b{display:block;font-size:1.4em}.plots{display:flex;flex-wrap:wrap;gap:12px}
.plots svg{border:1px solid #d0d0d0;max-width:100%;height:auto;background:white}
.videos{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0;background:white;border:1px solid #d0d0d0;padding:6px;max-width:420px}
figure video{width:100%;display:block}figcaption{font-size:.85em;margin-top:4px}
.ok{color:#1b7f3b;font-weight:bold}.bad{color:#b3261e;font-weight:bold}.fallback{display:none;color:#b3261e}
video[data-state=error]+.fallback{display:block}section.run{margin-top:36px}
figure.wide{max-width:100%;margin:8px 0}img.frames{max-width:100%;display:block}
"""


def html_page(title: str, sections: Sequence[str], scripts: Sequence[str] = ()) -> str:
    """A whole HTML document: ``title`` as heading, then the ``sections`` (HTML) in order, then the
    inline ``scripts`` (JavaScript source, run after the page is built)."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><h1>{escape(title)}</h1>{''.join(sections)}"
        + "".join(f"<script>{s}</script>" for s in scripts)
        + "</body></html>"
    )


def plots(svgs: Sequence[str]) -> str:
    """Charts side by side, wrapping onto new rows."""
    return f'<div class="plots">{"".join(svgs)}</div>'
