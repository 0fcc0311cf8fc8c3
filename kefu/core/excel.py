"""One way to open an Excel workbook for export: text stays text.

xlsxwriter's ``write()`` turns a string that starts with ``=`` into a formula, a URL-looking string into a
hyperlink and a numeric-looking one into a number. Exported text comes from users (phrases, names,
customers' words), so every export opens its workbook here, where all three are off: a cell never
runs or links anything its author typed.
"""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

AUTHOR = "Kefu 客服平台"
COMPANY = "新视通(4G版)"


def workbook(buf: io.BytesIO, **properties: str) -> Any:
    """An in-memory workbook writing into ``buf``, with the document properties given (author and company
    by default)."""
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"author": AUTHOR, "company": COMPANY, **properties})
    return wb
