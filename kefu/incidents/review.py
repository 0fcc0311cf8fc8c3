"""The review report: timeline, contacts per province and hour, notify/relay/acknowledge times, SLA impact.

Figures are computed from the rows the reader may see: HQ reads every
province, a province its own linked orders and its own desk's receipts.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from kefu.core import excel
from kefu.core.scope import Scope

from . import contacts, selectors
from .models import Bulletin, Incident, Receipt, Update


def minutes(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def _between(a: datetime | None, b: datetime | None) -> timedelta | None:
    return None if a is None or b is None else b - a


@dataclass
class Review:
    incident: Incident
    timeline: list[Update]
    hours: list[str]  # Beijing hour labels, oldest first
    provinces: list[str]  # province names in report order
    per_province_hour: dict[str, dict[str, int]]  # province -> hour -> linked orders
    per_province: dict[str, int]
    to_notify_min: float | None
    to_mail_min: float | None
    to_hq_seen_min: float | None
    to_relay_min: float | None
    acks: list[dict[str, Any]] = field(default_factory=list)  # per addressed team of the first bulletin
    sla: dict[str, int] = field(default_factory=dict)  # resolve clock outcome -> orders
    bulk: dict[str, int] = field(default_factory=dict)
    total: int = 0
    chats: int = 0  # linked conversations the reader may see
    calls: int = 0  # linked calls the reader may see
    contacts_per_province: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> kind -> n


def build(incident: Incident, scope: Scope) -> Review:
    links = list(selectors.links(incident, scope))
    per_hour: dict[str, Counter[str]] = defaultdict(Counter)
    hours: set[str] = set()
    per_province: Counter[str] = Counter()
    order: dict[str, int] = {}
    for link in links:
        hour = timezone.localtime(link.ticket_created_at).strftime("%m-%d %H:00")
        name = link.province.name
        per_hour[name][hour] += 1
        per_province[name] += 1
        hours.add(hour)
        order[name] = link.province.report_order
    first = Bulletin.objects.filter(incident=incident).order_by("version").first()
    acks = []
    if first is not None:
        for r in Receipt.objects.scoped(scope).filter(bulletin=first).select_related("team", "province"):
            acks.append(
                {
                    "team": r.team.name,
                    "province": r.province.name if r.province else "全国",
                    "acknowledged_at": r.acknowledged_at,
                    "minutes": minutes(_between(first.issued_at, r.acknowledged_at)),
                    "reminders": r.reminder_count,
                }
            )
    contact_counts = contacts.counts(incident, scope)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, name in contacts.contact_links(incident, scope).values_list("kind", "province__name"):
        per_kind[name or "全国"][kind] += 1
    sla = Counter(link.sla_outcome or ("running" if link.ticket.is_open else "—") for link in links)
    bulk = Counter(link.bulk_outcome or "pending" for link in links)
    return Review(
        incident=incident,
        timeline=list(incident.updates.select_related("author").order_by("at", "pk")),
        hours=sorted(hours),
        provinces=sorted(per_hour, key=lambda n: order[n]),
        per_province_hour={p: dict(c) for p, c in per_hour.items()},
        per_province=dict(per_province),
        to_notify_min=minutes(_between(incident.declared_at, incident.hq_notified_at)),
        to_mail_min=minutes(_between(incident.declared_at, incident.hq_mail_sent_at)),
        to_hq_seen_min=minutes(_between(incident.declared_at, incident.hq_seen_at)),
        to_relay_min=minutes(_between(incident.declared_at, first.issued_at if first else None)),
        acks=acks,
        sla=dict(sla),
        bulk=dict(bulk),
        total=len(links),
        chats=contact_counts["chat"],
        calls=contact_counts["call"],
        contacts_per_province={p: dict(c) for p, c in per_kind.items()},
    )


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def to_xlsx(review: Review) -> bytes:
    inc = review.incident
    out = io.BytesIO()
    book = excel.workbook(out)
    bold = book.add_format({"bold": True})
    ws = book.add_worksheet("概况")
    rows = [
        ("事件编号", inc.number),
        ("标题", inc.title),
        ("影响级别", str(inc.get_impact_display())),
        ("受影响业务/功能", inc.services),
        ("故障开始", _local(inc.started_at)),
        ("发现", _local(inc.detected_at)),
        ("宣告", _local(inc.declared_at)),
        ("恢复", _local(inc.resolved_at)),
        ("状态", str(inc.get_status_display())),
        ("通知集团(分钟)", review.to_notify_min),
        ("集团邮件发出(分钟)", review.to_mail_min),
        ("集团确认收到(分钟)", review.to_hq_seen_min),
        ("首次通报下发(分钟)", review.to_relay_min),
        ("关联工单", review.total),
        ("关联在线会话", review.chats),
        ("关联通话", review.calls),
        ("复盘结论", inc.review_summary),
    ]
    for i, (k, v) in enumerate(rows):
        ws.write_string(i, 0, k, bold)
        if isinstance(v, int | float):
            ws.write_number(i, 1, v)
        else:
            ws.write_string(i, 1, "" if v is None else str(v))
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 60)
    tl = book.add_worksheet("时间线")
    for j, h in enumerate(("时间", "类型", "状态", "内容", "记录人")):
        tl.write_string(0, j, h, bold)
    for i, u in enumerate(review.timeline, start=1):
        tl.write_string(i, 0, _local(u.at))
        tl.write_string(i, 1, str(u.get_kind_display()))
        tl.write_string(i, 2, u.status_to_label if u.status_to else "")
        tl.write_string(i, 3, u.body)
        tl.write_string(i, 4, (u.author.display_name or u.author.username) if u.author else "系统")
    ph = book.add_worksheet("分省分时工单")
    ph.write_string(0, 0, "省份", bold)
    for j, h in enumerate(review.hours, start=1):
        ph.write_string(0, j, h, bold)
    ph.write_string(0, len(review.hours) + 1, "合计", bold)
    for i, p in enumerate(review.provinces, start=1):
        ph.write_string(i, 0, p)
        for j, h in enumerate(review.hours, start=1):
            ph.write_number(i, j, review.per_province_hour[p].get(h, 0))
        ph.write_number(i, len(review.hours) + 1, review.per_province.get(p, 0))
    ak = book.add_worksheet("通报确认")
    for j, h in enumerate(("省份", "团队", "确认时间", "用时(分钟)", "提醒次数")):
        ak.write_string(0, j, h, bold)
    for i, a in enumerate(review.acks, start=1):
        ak.write_string(i, 0, a["province"])
        ak.write_string(i, 1, a["team"])
        ak.write_string(i, 2, _local(a["acknowledged_at"]) or "未确认")
        if a["minutes"] is not None:
            ak.write_number(i, 3, a["minutes"])
        ak.write_number(i, 4, a["reminders"])
    ct = book.add_worksheet("会话与通话")
    for j, h in enumerate(("省份", "在线会话", "通话")):
        ct.write_string(0, j, h, bold)
    for i, (name, by_kind) in enumerate(sorted(review.contacts_per_province.items()), start=1):
        ct.write_string(i, 0, name)
        ct.write_number(i, 1, by_kind.get("chat", 0))
        ct.write_number(i, 2, by_kind.get("call", 0))
    sl = book.add_worksheet("时限影响")
    sl.write_string(0, 0, "时限结果", bold)
    sl.write_string(0, 1, "工单数", bold)
    for i, (k, v) in enumerate(sorted(review.sla.items()), start=1):
        sl.write_string(i, 0, k)
        sl.write_number(i, 1, v)
    book.close()
    return out.getvalue()
