"""Figures for people (issue #9 item 8): volume by day and half hour, waits, first response, abandonment,
per-agent load, ratings. Pure arithmetic over rows a scoped selector fetched."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from kefu.org.access import Actor

from .models import Conversation

SH = ZoneInfo("Asia/Shanghai")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


@dataclass
class Figures:
    start: date
    end: date
    total: int = 0
    abandoned: int = 0
    left_messages: int = 0
    per_day: dict[date, int] = field(default_factory=dict)
    per_half_hour: dict[str, int] = field(default_factory=dict)
    wait_p50: float | None = None
    wait_p90: float | None = None
    first_response_p50: float | None = None
    first_response_p90: float | None = None
    per_agent: list[tuple[str, int, float | None]] = field(
        default_factory=list
    )  # name, conversations, avg minutes
    ratings: dict[str, int] = field(default_factory=dict)
    kb_answered: int = 0
    transferred: int = 0


def conversations_for(actor: Actor) -> QuerySet[Conversation]:
    """National readers see every conversation; others those of their own teams."""
    qs = Conversation.objects.all()
    if actor.scope.national:
        return qs
    return qs.filter(team_id__in={s.team_id for s in actor.seats})


def sheet_rows(f: Figures) -> list[tuple[str, Any]]:
    """The figures as (label, value) rows: the stats page's Excel and the monthly sheet."""
    return [
        ("会话总数", f.total),
        ("未接入即离开", f.abandoned),
        ("留言", f.left_messages),
        ("等待接入 p50(秒)", f.wait_p50),
        ("等待接入 p90(秒)", f.wait_p90),
        ("首次响应 p50(秒)", f.first_response_p50),
        ("首次响应 p90(秒)", f.first_response_p90),
        ("以知识库作答", f.kb_answered),
        ("有转接", f.transferred),
        ("满意", f.ratings.get("satisfied", 0)),
        ("一般", f.ratings.get("neutral", 0)),
        ("不满意", f.ratings.get("unsatisfied", 0)),
    ]


def compute(qs: QuerySet[Conversation], start: date, end: date) -> Figures:
    lo = datetime.combine(start, datetime.min.time(), SH)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), SH)
    rows = list(
        qs.filter(created_at__gte=lo, created_at__lt=hi).select_related("agent").order_by("created_at")
    )
    f = Figures(start=start, end=end, total=len(rows))
    days: Counter[date] = Counter()
    halves: Counter[str] = Counter()
    waits: list[float] = []
    firsts: list[float] = []
    load: dict[str, list[float]] = {}
    ratings: Counter[str] = Counter()
    for c in rows:
        local = timezone.localtime(c.created_at, SH)
        days[local.date()] += 1
        halves[f"{local.hour:02d}:{'00' if local.minute < 30 else '30'}"] += 1
        if c.status == Conversation.Status.ABANDONED:
            f.abandoned += 1
        if c.status == Conversation.Status.LEFT_MESSAGE:
            f.left_messages += 1
        if c.accepted_at:
            waits.append((c.accepted_at - c.created_at).total_seconds())
        if c.first_response_at and c.accepted_at:
            firsts.append((c.first_response_at - c.accepted_at).total_seconds())
        if c.agent_id and c.agent:
            minutes = (
                (c.closed_at - c.accepted_at).total_seconds() / 60 if c.closed_at and c.accepted_at else None
            )
            load.setdefault(c.agent.display_name or c.agent.username, []).append(
                minutes if minutes is not None else -1
            )
        if c.rating:
            ratings[c.rating] += 1
        f.kb_answered += int(c.kb_answered)
        f.transferred += int(c.transfers > 0)
    f.per_day = {
        start + timedelta(days=i): days.get(start + timedelta(days=i), 0)
        for i in range((end - start).days + 1)
    }
    f.per_half_hour = dict(sorted(halves.items()))
    f.wait_p50, f.wait_p90 = percentile(waits, 50), percentile(waits, 90)
    f.first_response_p50, f.first_response_p90 = percentile(firsts, 50), percentile(firsts, 90)
    for name, durations in sorted(load.items(), key=lambda kv: -len(kv[1])):
        done = [d for d in durations if d >= 0]
        f.per_agent.append((name, len(durations), sum(done) / len(done) if done else None))
    f.ratings = {k: ratings.get(k, 0) for k in Conversation.Rating.values}
    return f


def excel(f: Figures) -> bytes:
    from kefu.core import excel

    buf = io.BytesIO()
    wb = excel.workbook(buf)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("在线客服")
    rows: list[tuple[Any, ...]] = [("统计期间(北京时间)", f"{f.start} 至 {f.end}"), *sheet_rows(f)]
    for i, row in enumerate(rows):
        ws.write(i, 0, row[0], bold)
        ws.write(i, 1, row[1] if row[1] is not None else "—")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 26)
    days = wb.add_worksheet("每日")
    days.write_row(0, 0, ["日期", "会话数"], bold)
    for i, (d, n) in enumerate(f.per_day.items(), start=1):
        days.write_row(i, 0, [d.isoformat(), n])
    halves = wb.add_worksheet("每半小时")
    halves.write_row(0, 0, ["时段", "会话数"], bold)
    for i, (h, n) in enumerate(f.per_half_hour.items(), start=1):
        halves.write_row(i, 0, [h, n])
    agents = wb.add_worksheet("坐席")
    agents.write_row(0, 0, ["坐席", "会话数", "平均时长(分钟)"], bold)
    for i, (name, n, avg) in enumerate(f.per_agent, start=1):
        agents.write_row(i, 0, [name, n, round(avg, 1) if avg is not None else "—"])
    wb.close()
    return buf.getvalue()
