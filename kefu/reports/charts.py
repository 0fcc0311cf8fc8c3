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
    label_font_size=15,
    major_label_font_size=15,
    title_font_size=18,
    value_font_size=14,
    tooltip_font_size=14,
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


TRUNCATE = 14


def _cjk_room(labels: Sequence[str]) -> int:
    """Extra left margin for CJK category labels: pygal sizes the label room for Latin glyphs (about
    0.6 em), a CJK glyph takes a full em, so long Chinese labels were cut off at the left edge."""
    wide = max((sum(1 for ch in label[:TRUNCATE] if ord(ch) >= 0x2E80) for label in labels), default=0)
    return int(wide * _STYLE.label_font_size * 0.45)


def _count_axis(chart: pygal.graph.graph.Graph, values: Sequence[float | None]) -> None:
    """Whole-number ticks for counts (pygal would otherwise label 0.2, 0.4 … for small numbers)."""
    top = max((v for v in values if v is not None), default=0)
    if top <= 10:
        chart.y_labels = list(range(0, int(top) + 2))


def line(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    chart = pygal.Line(
        style=_STYLE,
        width=640,
        height=380,
        x_label_rotation=40,
        show_dots=True,
        fill=False,
        show_minor_x_labels=len(labels) <= 12,
        x_labels_major_every=3,
    )
    _config(chart, title)
    _count_axis(chart, values)
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    return _svg(chart)


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    horizontal: bool = False,
    target: float | None = None,
    target_label: str = "",
) -> bytes:
    labels, values = list(labels), list(values)
    if horizontal:
        # pygal draws the first bar at the bottom; a ranking reads from the top.
        labels, values = labels[::-1], values[::-1]
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(380, 26 * len(labels) + 110) if horizontal else 380
    chart = cls(
        style=_STYLE,
        width=640,
        height=height,
        x_label_rotation=0 if horizontal else 40,
        truncate_label=TRUNCATE,
    )
    if horizontal:
        chart.margin_left = 20 + _cjk_room(labels)
    _config(chart, title)
    chart.print_values = True
    chart.x_labels = labels
    chart.add(title, values)
    if target is not None:
        # The target as a major guide line, not as bars.
        chart.range = (0, 100)
        chart.y_labels = sorted({0, 25, 50, 75, target})
        chart.y_labels_major = [target]
        chart.show_minor_y_labels = True
        if target_label:
            chart.title = f"{title} · {target_label}"
    else:
        _count_axis(chart, values)
    return _svg(chart)
