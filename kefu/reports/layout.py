"""The operator's monthly table (第八条): rows, columns and every cell, from counts. Pure, no database.

Rows, top to bottom::

    投诉/故障 | 开通类     | 业务开户不成功 …   one row per level-3 category
              |            | 小计               subtotal of the level-2 group
              | 突发事件   |                    a level-2 category without children: one row
              | 未分类     |                    only when non-zero (see docs/reports.md)
              | 合计       |                    every complaint and fault order of the month
    咨询(可根据知识库解决的咨询、投诉数量)

Columns: 全国 (national readers only) then the provinces in the standard order.
Cell values are computed here from ``counts[(province_id, category_id)]`` and
``kb_counts[province_id]``; a caller never adds things up itself, so the
screen, the Excel file, the CSV, the API and the mail all show the same sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

# Row kinds: stable codes (tests, CSS classes and the Excel writer branch on them).
LEAF = "leaf"  # a level-3 category, or a level-2 category without children
DIRECT = "direct"  # orders filed on a level-2 group that has children ("未细分")
SUBTOTAL = "subtotal"  # level-2 group subtotal
UNCLASSIFIED = "unclassified"
TOTAL = "total"  # 合计
KB = "kb"  # 咨询 row

SECTION_LABEL = "投诉/故障"
SUBTOTAL_LABEL = "小计"
DIRECT_LABEL = "未细分"
UNCLASSIFIED_LABEL = "未分类"
TOTAL_LABEL = "合计"
KB_LABEL = "咨询(可根据知识库解决的咨询、投诉数量)"
NATIONAL_LABEL = "全国"
HEADER_ITEM = "项目"
HEADER_LEVELS = ("分类1", "分类2", "分类3")


@dataclass(frozen=True)
class CategoryNode:
    """One category of the complaint/fault tree as the report needs it."""

    id: int
    name: str
    level: int  # 2 or 3 (the level-1 root is the section itself)
    parent_id: int | None  # for level 3: the level-2 group
    sort: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Column:
    key: str  # "national" or the province slug
    label: str
    province_id: int | None  # None = the national total


@dataclass
class Row:
    kind: str
    level1: str
    level2: str
    level3: str
    values: list[int] = field(default_factory=list)
    category_id: int | None = None
    group_id: int | None = None

    @property
    def label(self) -> str:
        return " / ".join(p for p in (self.level1, self.level2, self.level3) if p)


@dataclass
class MonthlyTable:
    month: date
    columns: list[Column]
    rows: list[Row]

    def cell(self, row_label: tuple[str, str, str], column_key: str) -> int:
        idx = [c.key for c in self.columns].index(column_key)
        for row in self.rows:
            if (row.level1, row.level2, row.level3) == row_label:
                return row.values[idx]
        raise KeyError(row_label)

    def row(self, kind: str) -> Row:
        return next(r for r in self.rows if r.kind == kind)

    def as_dict(self) -> dict[str, object]:
        return {
            "month": f"{self.month:%Y-%m}",
            "columns": [{"key": c.key, "label": c.label} for c in self.columns],
            "rows": [
                {
                    "kind": r.kind,
                    "level1": r.level1,
                    "level2": r.level2,
                    "level3": r.level3,
                    "values": r.values,
                }
                for r in self.rows
            ],
        }


def build(
    *,
    month: date,
    categories: Iterable[CategoryNode],
    columns: Sequence[Column],
    counts: Mapping[tuple[int, int | None], int],
    kb_counts: Mapping[int, int],
) -> MonthlyTable:
    """Lay out the table.

    ``counts`` maps (province_id, category_id or None) to complaint+fault orders;
    a category id that is not in ``categories`` (another tree, the level-1 root,
    None) lands in 未分类. The national column sums every province in ``counts``,
    not only the visible ones: it is shown only to national readers, who see them all.
    """
    nodes = sorted(categories, key=lambda n: n.sort)
    groups = [n for n in nodes if n.level == 2]
    children: dict[int, list[CategoryNode]] = {g.id: [] for g in groups}
    for node in nodes:
        if node.level == 3 and node.parent_id is not None and node.parent_id in children:
            children[node.parent_id].append(node)
    known = {g.id for g in groups} | {c.id for cs in children.values() for c in cs}

    by_category: dict[int | None, dict[int, int]] = {}
    for (province_id, category_id), n in counts.items():
        if not n:
            continue
        cat = category_id if category_id in known else None
        per_province = by_category.setdefault(cat, {})
        per_province[province_id] = per_province.get(province_id, 0) + n

    def values_of(per_province: Mapping[int, int]) -> list[int]:
        return [
            sum(per_province.values()) if col.province_id is None else per_province.get(col.province_id, 0)
            for col in columns
        ]

    def add(a: list[int], b: list[int]) -> list[int]:
        return [x + y for x, y in zip(a, b, strict=True)]

    zero = [0] * len(columns)
    rows: list[Row] = []
    total = list(zero)
    for group in groups:
        kids = children[group.id]
        if not kids:
            vals = values_of(by_category.get(group.id, {}))
            rows.append(
                Row(LEAF, SECTION_LABEL, group.name, "", vals, category_id=group.id, group_id=group.id)
            )
            total = add(total, vals)
            continue
        subtotal = list(zero)
        for kid in kids:
            vals = values_of(by_category.get(kid.id, {}))
            rows.append(
                Row(LEAF, SECTION_LABEL, group.name, kid.name, vals, category_id=kid.id, group_id=group.id)
            )
            subtotal = add(subtotal, vals)
        if by_category.get(group.id):
            vals = values_of(by_category[group.id])
            rows.append(
                Row(
                    DIRECT,
                    SECTION_LABEL,
                    group.name,
                    DIRECT_LABEL,
                    vals,
                    category_id=group.id,
                    group_id=group.id,
                )
            )
            subtotal = add(subtotal, vals)
        rows.append(Row(SUBTOTAL, SECTION_LABEL, group.name, SUBTOTAL_LABEL, subtotal, group_id=group.id))
        total = add(total, subtotal)
    unclassified = values_of(by_category.get(None, {}))
    if any(unclassified):
        rows.append(Row(UNCLASSIFIED, SECTION_LABEL, UNCLASSIFIED_LABEL, "", unclassified))
        total = add(total, unclassified)
    rows.append(Row(TOTAL, SECTION_LABEL, TOTAL_LABEL, "", total))
    rows.append(Row(KB, KB_LABEL, "", "", values_of(kb_counts)))
    return MonthlyTable(month=month, columns=list(columns), rows=rows)


@dataclass(frozen=True)
class LabelCell:
    text: str
    rowspan: int = 1
    colspan: int = 1


def label_cells(table: MonthlyTable) -> list[list[LabelCell]]:
    """The label columns of each row with the operator's merges (as in the Excel file):
    投诉/故障 spans its section, each 分类2 spans its rows, 合计 / 未分类 / a childless group
    span 分类2-3, the 咨询 label spans 分类1-3. A merged-away cell is simply absent."""
    rows = table.rows
    out: list[list[LabelCell]] = [[] for _ in rows]
    section = [i for i, r in enumerate(rows) if r.kind != KB]
    if section:
        out[section[0]].append(LabelCell(SECTION_LABEL, rowspan=len(section)))
    i = 0
    while i < len(rows):
        row = rows[i]
        if row.kind == KB:
            out[i].append(LabelCell(row.level1, colspan=3))
            i += 1
            continue
        if row.kind in (TOTAL, UNCLASSIFIED) or (row.kind == LEAF and not row.level3):
            out[i].append(LabelCell(row.level2, colspan=2))
            i += 1
            continue
        j = i
        while (
            j + 1 < len(rows)
            and rows[j + 1].group_id == row.group_id
            and rows[j + 1].kind in (LEAF, DIRECT, SUBTOTAL)
        ):
            j += 1
        out[i].append(LabelCell(row.level2, rowspan=j - i + 1))
        for k in range(i, j + 1):
            out[k].append(LabelCell(rows[k].level3))
        i = j + 1
    return out
