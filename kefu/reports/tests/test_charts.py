"""Charts read as a person expects: whole-number ticks for counts, room for long Chinese labels."""

from __future__ import annotations

import re

from kefu.reports import charts


def test_small_counts_have_whole_number_ticks():
    for svg in (
        charts.bars("分类", ["咨询", "其他"], [3, 1], horizontal=True),
        charts.line("趋势", ["2026-01", "2026-02"], [0, 3]),
    ):
        text = svg.decode()
        assert not re.search(r"<text[^>]*>\s*\d+\.\d+\s*</text>", text), "fractional tick on a count axis"


def test_long_chinese_labels_get_left_room():
    short = charts._cjk_room(["其他"])
    long = charts._cjk_room(["业务退租类 / 资源退订不成功"])
    assert short < 20 < 60 < long
