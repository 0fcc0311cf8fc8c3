"""The monthly table as an Excel workbook (XlsxWriter) and as CSV.

Text cells are written with ``write_string`` (and the workbook refuses to turn
strings into formulas or links anyway), so a category named
``=HYPERLINK("http://evil","点我")`` stays text in Excel and LibreOffice. The
CSV neutralises a leading ``= + - @`` (and tab / CR) with an apostrophe, the
usual defence against formula injection when a spreadsheet opens a CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import xlsxwriter

from kefu.core import excel

from . import layout, months
from .layout import MonthlyTable

TITLE = "新视通(4G版)客户投诉/故障统计月报表"
RULES_NOTE = (
    "统计口径：按工单登记时间(北京时间)计入月份；投诉/故障行统计投诉与故障申告工单，按工单当前分类；"
    "合计为投诉/故障工单总数；咨询行统计依据知识库解决的咨询与投诉工单。详见系统“统计报表”说明。"
)


def title_of(table: MonthlyTable, scope_label: str) -> str:
    return f"{TITLE}（{months.label(table.month)}，{scope_label}）"


def to_xlsx(table: MonthlyTable, *, scope_label: str, generated_at: datetime, scope: Any = None) -> bytes:
    buf = io.BytesIO()
    wb = excel.workbook(buf, title=title_of(table, scope_label))
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    f_title = wb.add_format(
        {"font_name": "宋体", "bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
    )
    f_note = wb.add_format(
        {"font_name": "宋体", "font_size": 9, "font_color": "#555555", "text_wrap": True, "valign": "top"}
    )
    f_head = wb.add_format(
        {**base, "bold": True, "align": "center", "bg_color": "#DCE6F1", "text_wrap": True}
    )
    f_text = wb.add_format({**base, "text_wrap": True})
    f_num = wb.add_format({**base, "num_format": "0"})
    f_sub_text = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
    f_sub_num = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0"})
    f_total_text = wb.add_format({**base, "bold": True, "bg_color": "#FFF2CC"})
    f_total_num = wb.add_format({**base, "bold": True, "bg_color": "#FFF2CC", "num_format": "0"})

    ws = wb.add_worksheet("月报表")
    ncols = 3 + len(table.columns)
    last_col = ncols - 1

    def merge_text(r1: int, c1: int, r2: int, c2: int, text: str, fmt: object) -> None:
        # merge_range would go through write(); write the text explicitly as a string.
        if (r1, c1) != (r2, c2):
            ws.merge_range(r1, c1, r2, c2, "", fmt)
        ws.write_string(r1, c1, text, fmt)

    merge_text(0, 0, 0, last_col, title_of(table, scope_label), f_title)
    ws.set_row(0, 28)
    merge_text(
        1,
        0,
        1,
        last_col,
        RULES_NOTE + f"  生成时间：{generated_at.astimezone(months.REPORT_TZ):%Y-%m-%d %H:%M}",
        f_note,
    )
    ws.set_row(1, 30)
    head1, head2, body = 2, 3, 4
    merge_text(head1, 0, head1, 2, layout.HEADER_ITEM, f_head)
    for i, name in enumerate(layout.HEADER_LEVELS):
        ws.write_string(head2, i, name, f_head)
    for j, col in enumerate(table.columns):
        merge_text(head1, 3 + j, head2, 3 + j, col.label, f_head)

    # Cells first, merges of the label columns after (they overwrite the label cells).
    r = body
    section_rows = [i for i, row in enumerate(table.rows) if row.kind != layout.KB]
    for row in table.rows:
        emphasised = row.kind in (layout.TOTAL, layout.KB)
        t_fmt = f_total_text if emphasised else f_sub_text if row.kind == layout.SUBTOTAL else f_text
        n_fmt = f_total_num if emphasised else f_sub_num if row.kind == layout.SUBTOTAL else f_num
        ws.write_string(r, 0, row.level1, t_fmt)
        ws.write_string(r, 1, row.level2, t_fmt)
        ws.write_string(r, 2, row.level3, t_fmt)
        for j, value in enumerate(row.values):
            ws.write_number(r, 3 + j, value, n_fmt)
        r += 1
    last_row = r - 1

    if section_rows:
        merge_text(body + section_rows[0], 0, body + section_rows[-1], 0, layout.SECTION_LABEL, f_text)
    # Level-2 labels merged over their rows; 合计/未分类 and childless groups merged across 分类2-3.
    i = 0
    rows = table.rows
    while i < len(rows):
        row = rows[i]
        if row.kind == layout.KB:
            merge_text(body + i, 0, body + i, 2, row.level1, f_total_text)
            i += 1
            continue
        if row.kind in (layout.TOTAL, layout.UNCLASSIFIED) or (row.kind == layout.LEAF and not row.level3):
            fmt = f_total_text if row.kind == layout.TOTAL else f_text
            merge_text(body + i, 1, body + i, 2, row.level2, fmt)
            i += 1
            continue
        j = i
        while (
            j + 1 < len(rows)
            and rows[j + 1].group_id == row.group_id
            and rows[j + 1].kind in (layout.LEAF, layout.DIRECT, layout.SUBTOTAL)
        ):
            j += 1
        merge_text(body + i, 1, body + j, 1, row.level2, f_text)
        i = j + 1

    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 18)
    ws.set_column(3, last_col, 8)
    ws.freeze_panes(body, 3)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(head1, head2)

    _add_chart(wb, ws, table, body, last_row)
    _add_rules_sheet(wb, f_note)
    if scope is not None:
        # Issue #10: service quality inspection (第五、六条) of the month, for the reader's scope.
        from kefu.quality.reporting import add_month_sheet as add_quality_sheet

        add_quality_sheet(wb, scope, table.month)
        # 第七条(一): the hotline's and desks' 20-second answer rate, per line, as its own sheet.
        from kefu.calls.export import add_month_rate_sheet

        add_month_rate_sheet(wb, scope, table.month)
        # Issue #9: the online service's month (conversations, waits, ratings) as its own sheet.
        from kefu.chat.reporting import add_month_sheet

        add_month_sheet(wb, scope, table.month)
    wb.close()
    return buf.getvalue()


def _add_chart(wb: xlsxwriter.Workbook, ws: object, table: MonthlyTable, body: int, last_row: int) -> None:
    """合计 per province when there are several, otherwise the level-2 groups of the one column."""
    sheet = "月报表"
    provinces = [j for j, c in enumerate(table.columns) if c.province_id is not None]
    total_idx = next(i for i, r in enumerate(table.rows) if r.kind == layout.TOTAL)
    chart = wb.add_chart({"type": "column"})
    if len(provinces) > 1:
        first, last = 3 + provinces[0], 3 + provinces[-1]
        header_row = 2
        chart.add_series(
            {
                "name": layout.TOTAL_LABEL,
                "categories": [sheet, header_row, first, header_row, last],
                "values": [sheet, body + total_idx, first, body + total_idx, last],
            }
        )
        chart.set_title({"name": "各省投诉/故障工单合计"})
    else:
        col = 3 + (provinces[0] if provinces else 0)
        group_rows = [
            i
            for i, r in enumerate(table.rows)
            if r.kind == layout.SUBTOTAL or (r.kind == layout.LEAF and not r.level3)
        ]
        # The group rows are not contiguous: chart a small copy on its own sheet.
        data_ws = wb.add_worksheet("图表数据")
        data_ws.write_string(0, 0, "分类2")
        data_ws.write_string(0, 1, table.columns[col - 3].label if table.columns else "")
        for k, i in enumerate(group_rows, start=1):
            data_ws.write_string(k, 0, table.rows[i].level2)
            data_ws.write_number(k, 1, table.rows[i].values[col - 3])
        data_ws.set_column(0, 0, 16)
        n = max(len(group_rows), 1)
        chart.add_series(
            {
                "name": table.columns[col - 3].label if table.columns else "",
                "categories": ["图表数据", 1, 0, n, 0],
                "values": ["图表数据", 1, 1, n, 1],
            }
        )
        chart.set_title({"name": "各类投诉/故障工单数"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 900, "height": 320})
    ws.insert_chart(last_row + 3, 0, chart)  # type: ignore[attr-defined]


def _add_rules_sheet(wb: xlsxwriter.Workbook, fmt: object) -> None:
    ws = wb.add_worksheet("口径说明")
    lines = [
        "1. 月份：以工单登记时间(北京时间 Asia/Shanghai)所在自然月计入。",
        "2. 投诉/故障各行：统计工单类型为“投诉”和“故障申告”的工单，按工单当前所属分类计数；分类调整后重新统计。",
        "3. 小计为该分类2下各分类3之和；合计为全部投诉/故障工单；“未分类”行仅在存在未归入本分类体系的工单时出现。",
        "4. 咨询行：统计已标记“依据知识库解决”的咨询工单和投诉工单(该投诉同时计入其分类行)。",
        "5. 业务受理工单不计入本表。已作废的工单不计入。",
        "6. 集团用户可见全国及各省数据；各省用户仅可见本省数据。",
    ]
    ws.set_column(0, 0, 110)
    for i, line in enumerate(lines):
        ws.write_string(i, 0, line, fmt)


_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_DANGEROUS) else value


def to_csv(table: MonthlyTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*layout.HEADER_LEVELS, *(_csv_text(c.label) for c in table.columns)])
    for row in table.rows:
        writer.writerow([_csv_text(row.level1), _csv_text(row.level2), _csv_text(row.level3), *row.values])
    # UTF-8 with BOM: Excel on Windows reads Chinese CSV correctly only with it.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
