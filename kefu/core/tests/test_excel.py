"""kefu.core.excel: exported text stays text (no formula, link or number made of what a user typed)."""

from __future__ import annotations

import io

import openpyxl

from kefu.core import excel


def test_typed_text_is_written_as_text():
    buf = io.BytesIO()
    wb = excel.workbook(buf, title="t")
    ws = wb.add_worksheet("s")
    ws.write_row(0, 0, ["=1+1", "http://evil.example/", "00123", 5])
    wb.close()
    book = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    cells = [c.value for c in book["s"][1]]
    assert cells == ["=1+1", "http://evil.example/", "00123", 5]
    assert [c.data_type for c in book["s"][1]] == ["s", "s", "s", "n"]
    assert book.properties.creator == excel.AUTHOR and book.properties.title == "t"
