"""Demo: one past platform incident, resolved and reviewed, with linked orders, receipts and its report.

Everything goes through the services with ``now`` in the past (declaration,
HQ acknowledgement, bulletin, receipts and a reminder, orders registered and
linked during the outage, status changes, the bulk reply and resolution, the
review), so the review report shows real figures. Nothing is left open; the
command ``manage.py incident_demo_declare`` declares an open one on demand.
Idempotent: skipped when the demo incident exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from kefu.core.models import OutboxMail, OutboxStatus
from kefu.customers.models import Customer
from kefu.org.access import Actor, actor_for
from kefu.org.models import User
from kefu.tickets import services as tickets
from kefu.tickets.models import Category

from . import bulk, mail, services
from .models import Incident

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

TITLE = "新视通云平台会议服务中断(华东)"
PROVINCES = ("sh", "js", "zj", "ah")
SUBJECTS = [
    "会议中途掉线，无法重新入会",
    "终端提示网络错误无法入会",
    "PC 客户端登录失败",
    "预约的会议无法开始",
]


def _actor(username: str) -> Actor | None:
    user = User.objects.filter(username=username).first()
    return actor_for(user) if user is not None else None


def load(ctx: DemoContext) -> None:
    if Incident.objects.filter(title=TITLE).exists():
        return
    lead, hq, author = _actor("hotline_lead"), _actor("hq_reviewer"), _actor("kb_author")
    if lead is None or hq is None:
        return
    # Two days ago, 10:00 Beijing time.
    day = timezone.localtime(ctx.now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    t0 = day
    inc = services.incident_declare(
        actor=lead,
        title=TITLE,
        services="云会议入会、会中音视频、PC/手机客户端登录",
        symptoms="华东四省大量终端入会失败或会中掉线，客户端提示“网络错误(1006)”。",
        impact="P1",
        started_at=t0 - timedelta(minutes=25),
        detected_at=t0 - timedelta(minutes=12),
        province_slugs=PROVINCES,
        measures="运营单位已切换至备用媒体集群，正在排查核心交换机。",
        workaround="可使用电话(PSTN)方式入会：拨打会议接入号后输入会议号。",
        expected_recovery_at=t0 + timedelta(hours=2),
        auto_link=True,
        auto_link_keywords="入会 掉线",
        now=t0,
    )
    services.incident_hq_acknowledge(actor=hq, incident=inc, now=t0 + timedelta(minutes=4))
    b = services.bulletin_issue(
        actor=hq,
        incident=inc,
        now=t0 + timedelta(minutes=11),
        customer_script="您好，新视通平台华东区域出现故障，技术人员正在全力抢修，预计两小时内恢复。"
        "期间可拨打会议接入号以电话方式入会。给您带来不便，敬请谅解。",
        agent_guidance="按“突发事件”登记投诉/故障，关联本事件；不转派热线；恢复后系统统一答复客户。",
    )
    acks = {"sh": 3, "js": 7, "hotline": 2, "online": 5, "ah": 38}  # minutes after the bulletin; zj never
    for team_code, minutes in acks.items():
        code = team_code if team_code in ("hotline", "online") else f"desk_{team_code}"
        username = {"hotline": "hotline_agent", "online": "online_agent"}.get(team_code, f"agent_{team_code}")
        actor = _actor(username)
        if actor is None or not actor.in_team(_team_id(code)):
            continue
        if minutes > 15:
            services.receipts_remind(now=b.issued_at + timedelta(minutes=16), after=timedelta(minutes=15))
        services.receipt_acknowledge(actor=actor, bulletin=b, now=b.issued_at + timedelta(minutes=minutes))
    category = Category.objects.filter(code="cf_usage_function").first() or Category.objects.get(
        code="cf_incident"
    )
    n = 0
    for slug in PROVINCES:
        agent = _actor(f"agent_{slug}")
        customers = list(
            Customer.objects.unscoped("demo data").filter(province__slug=slug).order_by("pk")[:6]
        )
        if agent is None or not customers:
            continue
        for i, customer in enumerate(customers[:4]):
            n += 1
            at = t0 + timedelta(minutes=5 + 9 * n)
            t = tickets.ticket_create(
                actor=agent,
                kind="complaint" if i % 3 else "fault",
                customer=customer,
                category=category,
                subject=SUBJECTS[i % len(SUBJECTS)],
                description="客户反映会议无法正常进行，疑似平台故障。",
                now=at,
            ).ticket
            if i == 3:  # one order the desk had already answered and resolved itself
                tickets.ticket_resolve(
                    actor=agent,
                    ticket=t,
                    resolution="已按口径答复",
                    reply_content="已按口径答复客户",
                    now=at + timedelta(minutes=5),
                )
            services.link_create(actor=agent, incident=inc, ticket=t, now=at + timedelta(minutes=2))
        ctx.progress("incidents", n, len(PROVINCES) * 4)
    if author is not None:
        from . import articles

        articles.urgent_article_create(
            actor=author,
            incident=inc,
            title="平台故障期间如何入会",
            question="新视通平台故障时，客户如何继续开会？",
            answer_agent="引导客户使用电话(PSTN)方式入会；登记投诉并关联平台事件。",
            answer_customer="平台故障期间，您可拨打会议接入号，输入会议号以电话方式入会。",
            now=t0 + timedelta(minutes=20),
        )
    _link_contacts(lead, inc, until=t0 + timedelta(minutes=95))
    services.incident_update(
        actor=lead, incident=inc, body="定位为核心交换机板卡故障，已更换。", now=t0 + timedelta(minutes=60)
    )
    services.incident_set_status(
        actor=lead, incident=inc, status="identified", now=t0 + timedelta(minutes=61)
    )
    services.incident_set_status(
        actor=lead, incident=inc, status="monitoring", now=t0 + timedelta(minutes=80)
    )
    services.incident_set_status(
        actor=lead,
        incident=inc,
        status="resolved",
        now=t0 + timedelta(minutes=100),
        resolution_text="您好，新视通平台华东区域故障已于今日 11:40 恢复，会议可正常使用。给您带来不便，深表歉意。",
    )
    bulk.bulk_resolve(actor=lead, incident=inc, now=t0 + timedelta(minutes=105))
    services.incident_set_status(
        actor=lead,
        incident=inc,
        status="reviewed",
        now=t0 + timedelta(days=1),
        note="根因：核心交换机板卡故障；改进：媒体集群自动切换、故障通报模板预置。",
    )
    # A past incident's mail is history, not something to retry every minute against a real SMTP server.
    OutboxMail.objects.filter(ref=mail.ref(inc.pk)).exclude(status=OutboxStatus.SENT).update(
        status=OutboxStatus.FAILED, last_error="演示数据：历史邮件，不重试 / demo data: not retried"
    )


def _link_contacts(lead: Actor, inc: Any, *, until: datetime) -> None:
    """The window's chats and calls (the chat and calls demos ran first), linked as the hotline lead would."""
    from . import contacts

    for kind, found in (
        ("chat", contacts.chat_candidates(inc, lead.scope, until=until, limit=6)),
        ("call", contacts.call_candidates(inc, lead.scope, until=until, limit=12)),
    ):
        for c in found:
            contacts.contact_link_create(actor=lead, incident=inc, kind=kind, contact_id=c.pk, now=until)


def _team_id(code: str) -> int:
    from kefu.org.models import Team

    return Team.objects.get(code=code).pk
