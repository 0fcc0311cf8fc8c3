"""The knowledge team's vocabulary sheets: synonym groups to and from Excel.

Sheet columns: 同义词 (words separated by spaces or commas), 说明 (note). The import replaces the whole
vocabulary, every row validated first (``services.synonyms_replace``).
"""

from __future__ import annotations

import io

from kefu.core import excel
from kefu.core.errors import ValidationFailed

from .models import SynonymGroup

HEADERS = {"同义词": "words", "words": "words", "synonyms": "words", "说明": "note", "note": "note"}


def to_xlsx() -> bytes:
    buf = io.BytesIO()
    wb = excel.workbook(buf)
    ws = wb.add_worksheet("同义词")
    bold = wb.add_format({"bold": True})
    ws.write_string(0, 0, "同义词", bold)
    ws.write_string(0, 1, "说明", bold)
    ws.set_column(0, 0, 60)
    ws.set_column(1, 1, 30)
    for i, g in enumerate(SynonymGroup.objects.order_by("pk"), start=1):
        ws.write_string(i, 0, g.words)
        ws.write_string(i, 1, g.note)
    wb.close()
    return buf.getvalue()


def rows_from_xlsx(data: bytes) -> list[tuple[str, str]]:
    """(words, note) per non-empty row; a sheet without a 同义词 column is refused."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationFailed(
            "无法读取 Excel 文件(.xlsx)。", "Cannot read the Excel (.xlsx) file.", fields=[{"field": "file"}]
        ) from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    columns = {
        HEADERS.get(str(h or "").strip().lower(), HEADERS.get(str(h or "").strip())): i
        for i, h in enumerate(header)
    }
    if "words" not in columns:
        raise ValidationFailed(
            "表头须包含“同义词”列。",
            "The sheet needs a 同义词 (words) column.",
            fields=[{"field": "file", "row": 1}],
        )
    out = []
    for row in rows:
        words = row[columns["words"]] if columns["words"] < len(row) else None
        note = row[columns["note"]] if "note" in columns and columns["note"] < len(row) else None
        if words is None or not str(words).strip():
            continue
        out.append((str(words), str(note or "")))
    return out
