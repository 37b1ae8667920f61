"""One toolkit for every HTML report: a self-contained page, tables, matplotlib charts with
intervals as inline SVG, Pillow images and text, and embedded videos.

    from hivla.reporting import bar_chart, html_page, plots, table

    page = html_page("My experiment", [table(["arm", "success"], rows), plots([bar_chart(...)])])

Modules, one job each: ``page`` (document + CSS), ``tables`` (HTML/Markdown tables, headline
cards), ``charts`` (matplotlib -> SVG), ``images`` (PNG files, data URIs, frame grids), ``text``
(text drawn into frames), ``video`` (mp4 bytes and embedded video figures). A report module of a
package builds its sections from these and writes one file; nothing links outside that file.
"""

from hivla.reporting.charts import bar_chart, heatmap_chart, histogram_chart, line_chart, strip_chart
from hivla.reporting.images import data_uri, frame_grid, image_figure, png_bytes, png_data_uri, save_png
from hivla.reporting.page import CSS, html_page, plots
from hivla.reporting.tables import cards, markdown_table, table
from hivla.reporting.video import VIDEO_STATE_SCRIPT, mp4_bytes, video_figure, videos

__all__ = [
    "CSS",
    "VIDEO_STATE_SCRIPT",
    "bar_chart",
    "cards",
    "data_uri",
    "frame_grid",
    "heatmap_chart",
    "histogram_chart",
    "html_page",
    "image_figure",
    "line_chart",
    "markdown_table",
    "mp4_bytes",
    "plots",
    "png_bytes",
    "png_data_uri",
    "save_png",
    "strip_chart",
    "table",
    "video_figure",
    "videos",
]
