"""The layout engine alone: rows, subtotals, 未分类, national column. No database."""

from datetime import date

from kefu.reports import layout
from kefu.reports.layout import CategoryNode, Column

CATS = [
    CategoryNode(1, "开通类", 2, None, (1,)),
    CategoryNode(11, "业务开户不成功", 3, 1, (1, 1)),
    CategoryNode(12, "其他", 3, 1, (1, 2)),
    CategoryNode(2, "突发事件", 2, None, (2,)),
]
COLS = [Column("national", "全国", None), Column("bj", "北京", 101), Column("tj", "天津", 102)]


def table(counts, kb=None):
    return layout.build(
        month=date(2026, 10, 1), categories=CATS, columns=COLS, counts=counts, kb_counts=kb or {}
    )


def test_rows_in_operator_order_with_subtotal_total_and_kb():
    t = table({(101, 11): 3, (102, 12): 2, (101, 2): 1}, {101: 4, 102: 1})
    assert [(r.kind, r.level2, r.level3, r.values) for r in t.rows] == [
        ("leaf", "开通类", "业务开户不成功", [3, 3, 0]),
        ("leaf", "开通类", "其他", [2, 0, 2]),
        ("subtotal", "开通类", "小计", [5, 3, 2]),
        ("leaf", "突发事件", "", [1, 1, 0]),
        ("total", "合计", "", [6, 4, 2]),
        ("kb", "", "", [5, 4, 1]),
    ]
    assert t.rows[-1].level1 == layout.KB_LABEL


def test_unknown_category_goes_to_unclassified_and_into_total():
    t = table({(101, 999): 2, (102, None): 1, (101, 11): 1})
    assert [(r.kind, r.values) for r in t.rows if r.kind in ("unclassified", "total")] == [
        ("unclassified", [3, 2, 1]),
        ("total", [4, 3, 1]),
    ]


def test_unclassified_row_absent_when_zero():
    assert "unclassified" not in [r.kind for r in table({(101, 11): 1}).rows]


def test_orders_on_a_group_with_children_get_their_own_row_inside_the_subtotal():
    t = table({(101, 1): 2, (101, 11): 1})
    assert [(r.kind, r.level3, r.values) for r in t.rows if r.level2 == "开通类"] == [
        ("leaf", "业务开户不成功", [1, 1, 0]),
        ("leaf", "其他", [0, 0, 0]),
        ("direct", "未细分", [2, 2, 0]),
        ("subtotal", "小计", [3, 3, 0]),
    ]


def test_national_column_sums_all_provinces_even_those_not_shown():
    cols = [Column("national", "全国", None), Column("bj", "北京", 101)]
    t = layout.build(
        month=date(2026, 10, 1),
        categories=CATS,
        columns=cols,
        counts={(101, 11): 1, (102, 11): 5},
        kb_counts={},
    )
    assert t.row("total").values == [6, 1]


def test_as_dict_round_trip_shape():
    d = table({(101, 11): 1}).as_dict()
    assert d["month"] == "2026-10"
    assert [c["key"] for c in d["columns"]] == ["national", "bj", "tj"]


def test_label_cells_merge_like_the_operator_table():
    t = table({(101, 11): 1})
    cells = [[(c.text, c.rowspan, c.colspan) for c in row] for row in layout.label_cells(t)]
    assert cells == [
        [("投诉/故障", 5, 1), ("开通类", 3, 1), ("业务开户不成功", 1, 1)],
        [("其他", 1, 1)],
        [("小计", 1, 1)],
        [("突发事件", 1, 2)],
        [("合计", 1, 2)],
        [(layout.KB_LABEL, 1, 3)],
    ]
