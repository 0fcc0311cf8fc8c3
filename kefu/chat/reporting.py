"""What the reports app reads from chat: the 咨询 row, the dashboard box and the monthly sheet.

Reports imports this (reports sits above chat); chat never imports reports.

* 咨询 row (第八条: "可根据知识库解决的咨询、投诉数量"): a conversation answered from the
  knowledge base counts like an order that cites an article, in the month it was started
  (Beijing time), under the province of its possible customer. One contact is counted once:
  a conversation whose order is itself counted as resolved from the knowledge base is left
  out here. A conversation with no known customer has no province: it is counted in the
  全国 column only (key ``NO_PROVINCE``), which national readers alone see.
* Scope: national readers see every conversation; a province's readers those of their
  province's customers and those held by their province's teams (a desk, after a transfer).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from kefu.core.scope import Scope

from . import figures
from .models import Conversation

SH = ZoneInfo("Asia/Shanghai")
NO_PROVINCE = 0  # never a province id: only the 全国 column (a sum of every key) shows it


def _day_start(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), SH)


def conversations_in(scope: Scope) -> QuerySet[Conversation]:
    qs = Conversation.objects.all()
    if scope.national:
        return qs
    ids = list(scope.province_ids)
    return qs.filter(Q(possible_contact__customer__province_id__in=ids) | Q(team__province_id__in=ids))


def kb_counts(scope: Scope, start: date, end: date) -> dict[int, int]:
    """Conversations answered from the knowledge base started in [start, end) (dates in Beijing time),
    per province of the possible customer."""
    qs = (
        conversations_in(scope)
        .filter(kb_answered=True, created_at__gte=_day_start(start), created_at__lt=_day_start(end))
        .exclude(ticket__resolved_from_kb=True)
        .order_by()
    )
    out: dict[int, int] = {}
    for row in qs.values("possible_contact__customer__province_id").annotate(n=Count("id")):
        province = row["possible_contact__customer__province_id"]
        if province is None and not scope.national:
            continue
        key = NO_PROVINCE if province is None else int(province)
        if key != NO_PROVINCE and not scope.covers(key):
            continue  # held by this province's desk but the customer is another province's
        out[key] = out.get(key, 0) + row["n"]
    return out


def add_kb_counts(kb: dict[int, int], scope: Scope, month: date) -> dict[int, int]:
    """The monthly table's 咨询 counts plus the month's conversations answered from the knowledge base."""
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    merged = dict(kb)
    for key, n in kb_counts(scope, month, nxt).items():
        merged[key] = merged.get(key, 0) + n
    return merged


def summary(scope: Scope, start: date, end: date) -> figures.Figures:
    """The online service's figures for the dashboard box (start..end inclusive, Beijing dates)."""
    return figures.compute(conversations_in(scope), start, end)


def satisfaction(f: figures.Figures) -> float | None:
    rated = sum(f.ratings.values())
    return round(100 * f.ratings.get("satisfied", 0) / rated, 1) if rated else None


def month_summary(scope: Scope, month: date) -> figures.Figures:
    """The online service's figures of one Beijing month."""
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return summary(scope, month, nxt - timedelta(days=1))


def mail_lines(scope: Scope, month: date) -> list[str]:
    """The online service's month in a few lines for the monthly mail's body (none when it had no chats)."""
    f = month_summary(scope, month)
    if not f.total:
        return []

    def secs(v: float | None) -> str:
        return "—" if v is None else f"{v:.0f} 秒"

    rate = satisfaction(f)
    return [
        f"在线客服：会话 {f.total} 个，未接入即离开 {f.abandoned} 个，留言 {f.left_messages} 条；"
        f"等待接入 p50 {secs(f.wait_p50)}、p90 {secs(f.wait_p90)}，首次响应 p50 {secs(f.first_response_p50)}；"
        f"以知识库作答 {f.kb_answered} 个；满意率 {'—' if rate is None else f'{rate}%'}"
        f"（满意 {f.ratings.get('satisfied', 0)}、一般 {f.ratings.get('neutral', 0)}、"
        f"不满意 {f.ratings.get('unsatisfied', 0)}）。详见附件“在线客服”页。",
    ]


def add_month_sheet(wb: Any, scope: Scope, month: date) -> None:
    """The monthly Excel's (and so the monthly mail's) sheet of the online service."""
    f = month_summary(scope, month)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("在线客服")
    ws.write_string(0, 0, f"在线客服 {month:%Y 年 %m 月}(北京时间；会话按发起时间计入)", bold)
    rows: list[tuple[str, Any]] = [*figures.sheet_rows(f), ("满意率(%)", satisfaction(f))]
    for i, (label, value) in enumerate(rows, start=2):
        ws.write_string(i, 0, label, bold)
        if value is None:
            ws.write_string(i, 1, "—")
        else:
            ws.write_number(i, 1, float(value))
    r = len(rows) + 3
    ws.write_row(r, 0, ["坐席", "会话数", "平均时长(分钟)"], bold)
    for i, (name, n, avg) in enumerate(f.per_agent, start=r + 1):
        ws.write_string(i, 0, name)
        ws.write_number(i, 1, n)
        if avg is None:
            ws.write_string(i, 2, "—")
        else:
            ws.write_number(i, 2, round(avg, 1))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 2, 16)
