"""Server-rendered SVG charts (pygal): no script, no CDN.

pygal puts its styles inside the SVG (a <style> element and style attributes),
so the charts are separate responses with their own Content-Security-Policy
(``SVG_CSP``), embedded with <img src>, where scripts never run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#616e7c",
    colors=("#0b5cad", "#b54708", "#067647", "#b42318"),
    font_family='"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif',
    label_font_size=11,
    major_label_font_size=11,
    title_font_size=14,
    value_font_size=10,
)


_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    # pygal still emits its config as an inline <script>; the chart needs none of it.
    return _SCRIPT.sub(b"", bytes(chart.render()))


def _config(chart: pygal.graph.graph.Graph, title: str) -> None:
    chart.title = title
    chart.js = []  # no script from kozea.github.io
    chart.show_legend = False
    chart.print_values = False
    chart.disable_xml_declaration = False


def line(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    chart = pygal.Line(style=_STYLE, width=900, height=320, x_label_rotation=30, show_dots=True, fill=False)
    _config(chart, title)
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    return _svg(chart)


def bars(title: str, labels: Sequence[str], values: Sequence[float | None], *, horizontal: bool = False,
         target: float | None = None) -> bytes:
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = cls(style=_STYLE, width=900, height=max(320, 22 * len(labels) + 80) if horizontal else 340,
                x_label_rotation=0 if horizontal else 45, print_values=True)
    _config(chart, title)
    chart.print_values = True
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    if target is not None:
        chart.range = (min([v for v in values if v is not None] + [target]) - 2, 100)
        chart.add(f"目标 {target:g}%", [target] * len(labels), show_dots=False)
        chart.show_legend = True
    return _svg(chart)
