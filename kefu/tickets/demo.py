"""Demo work orders: every flow of 第三条, in every state, across provinces and the last six months.

Everything goes through the services with ``now`` in the past, so the
timeline, the hops and the SLA clocks are real (some late, some on time, a
few hops auto-accepted after two hours, a few transfers flagged as off-rule).
Idempotent: a province that already has orders is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from kefu.customers.models import Customer
from kefu.org.access import Actor, actor_for
from kefu.org.data import PROVINCES, am_team_code, desk_team_code
from kefu.org.models import Team, User

from . import services
from .models import Category, Ticket

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

# Complaint and fault subjects per category leaf, so that the demo's report rows read true.
CATEGORY_SUBJECTS = {
    "cf_activation_account": ["业务开户不成功，提交后一直待审核", "新开户的会议室账号无法激活"],
    "cf_activation_order": ["开户后资源订购不成功", "加购会议方数订购失败"],
    "cf_activation_tariff": ["资费未明示，账单与合同不符", "开通时未告知按方数计费"],
    "cf_activation_start": ["起租时间错误导致多收费", "未开通即开始计费"],
    "cf_termination_resource": ["会议室资源退订不成功", "退订后资源仍在账单中"],
    "cf_termination_business": ["退租申请提交后仍在扣费", "业务退租多次申请未办结"],
    "cf_usage_login": ["会议终端无法登录，多次报修未解决", "PC客户端登录提示账号锁定"],
    "cf_usage_function": ["PC客户端共享屏幕黑屏", "4G手机入会后无声音", "会议录制文件无法下载"],
    "cf_usage_bill": ["账单明细与实际使用时长不符", "月账单重复扣费"],
    "cf_usage_other": ["会议中频繁掉线影响使用", "电话入会拨号无应答"],
    "cf_incident": ["云平台故障，全省会议中断", "平台升级后大量终端无法入会"],
    "cf_other": ["硬件终端无法连接云平台", "客服热线长时间无人接听"],
}
SUBJECTS = {
    "consultation": [
        "如何预约周期性会议",
        "会议室最大并发方数是多少",
        "账单明细在哪里查询",
        "年付优惠活动规则",
        "Pad端如何举手发言",
    ],
}
ACCEPTANCES = [
    ("activation", "新增20个会议室账号"),
    ("change", "变更套餐为100方"),
    ("termination", "办理业务退租"),
]
CF_LEAVES = list(CATEGORY_SUBJECTS)
# (flow, where it stops) — the end states cover every status of the workflow.
SCENARIOS = [
    ("consult_first", "closed"),
    ("consult_first", "resolved"),
    ("consult_hotline", "closed"),
    ("consult_hotline", "result_returned"),
    ("accept_refer", "closed"),
    ("accept_am", "closed"),
    ("complaint_desk", "closed"),
    ("complaint_desk", "open"),
    ("complaint_desk", "waiting_customer"),
    ("complaint_hotline_help", "closed"),
    ("complaint_hotline_help", "awaiting_acceptance"),
    ("complaint_hotline_help", "accepted"),
    ("complaint_hotline_help", "returned"),
    ("complaint_hotline_help", "auto_accepted"),
    ("complaint_at_hotline", "closed"),
    ("complaint_at_hotline", "submitted"),
    ("complaint_am", "closed"),
    ("complaint_am", "open"),
    ("fault_desk", "closed"),
    ("fault_hotline_help", "closed"),
    ("fault_hotline_help", "resolved"),
    ("fault_at_hotline", "closed"),
    ("fault_at_hotline", "open"),
    ("off_rule", "awaiting_acceptance"),
]
OPEN_ENDS = {
    "open",
    "submitted",
    "waiting_customer",
    "awaiting_acceptance",
    "accepted",
    "result_returned",
    "returned",
    "auto_accepted",
}


def _actor(username: str) -> Actor | None:
    user = User.objects.filter(username=username).first()
    return actor_for(user) if user is not None else None


def _span(flow: str, end: str) -> timedelta:
    """How long after its registration a scenario's last step happens (the longest draw of ``_scenario``)."""
    if end in ("closed", "resolved"):
        return timedelta(hours=52)
    if end == "result_returned":
        return timedelta(hours=31)
    if end in ("accepted", "auto_accepted"):
        return timedelta(hours=3)
    if flow == "complaint_at_hotline":
        return timedelta(hours=3)
    if flow == "fault_at_hotline":
        return timedelta(hours=5)
    return timedelta(hours=1, minutes=30)


def _when(ctx: DemoContext, *, recent: bool, span: timedelta = timedelta(0)) -> datetime:
    """A moment inside the 7x12 service hours such that the whole scenario (``span``) is over by ``ctx.now``.

    Open orders mostly today's, else up to six months back. Whatever the time of day of
    ``ctx.now`` (early morning, just after midnight), nothing is written in the future: a
    moment that would be is moved back a day at a time, keeping its hour.
    """
    day_of_month = timezone.localtime(ctx.now).day
    if recent:
        # Mostly today's work; about one in five from the last two days, which shows up as overdue.
        days = 0 if ctx.rng.random() < 0.8 else ctx.rng.randint(1, 2)
    elif day_of_month > 4 and ctx.rng.random() < 0.5:
        # Half the finished orders fall in the current month, so month-to-date rates have substance.
        days = ctx.rng.randint(3, day_of_month - 1)
    else:
        days = ctx.rng.randint(3, 180)
    local = timezone.localtime(ctx.now - timedelta(days=days)).replace(
        hour=ctx.rng.randint(8, 17), minute=ctx.rng.randint(0, 59), second=0, microsecond=0
    )
    while local + span > ctx.now - timedelta(minutes=5):
        local = timezone.localtime(local - timedelta(days=1)).replace(hour=local.hour, minute=local.minute)
    return local


def _create(actor: Actor, customer: Customer, kind: str, ctx: DemoContext, now: datetime) -> Ticket:
    kw: dict[str, Any] = {}
    if kind in ("complaint", "fault"):
        code = ctx.rng.choice(CF_LEAVES)
        subject = ctx.rng.choice(CATEGORY_SUBJECTS[code])
        kw["category"] = Category.objects.get(code=code)
    elif kind == "consultation":
        subject = ctx.rng.choice(SUBJECTS[kind])
        kw["topic"] = ctx.rng.choice(["business", "usage", "bill", "promotion"])
        kw["category"] = Category.objects.get(code="consult")
    else:
        kw["topic"], subject = ctx.rng.choice(ACCEPTANCES)
    kw.update(subject=subject, description=f"客户来电反映：{subject}。")
    contact = customer.contacts.first()
    phone = contact.phones.first() if contact is not None else None
    return services.ticket_create(
        actor=actor,
        kind=kind,
        customer=customer,
        contact=contact,
        caller_phone=phone.number if phone else "",
        now=now,
        **kw,
    ).ticket


# A consultation is answered from the knowledge base when an article matches its subject this well (BM25).
KB_MIN_SCORE = 8.0


def _kb_answer(t: Ticket) -> int | None:
    """The article a consultation's answer cites (the 咨询 row's 知识库解决), as the agent would pick it."""
    if t.kind != "consultation":
        return None
    from kefu.knowledge import search

    hits = search.search(t.subject, limit=1)
    return hits[0].article_id if hits and hits[0].score >= KB_MIN_SCORE else None


def _finish(actor: Actor, t: Ticket, now: datetime, *, close: bool, submit: bool = False) -> None:
    services.ticket_reply(
        actor=actor, ticket=t, method="call_back", content="已电话答复客户处理结果。", now=now
    )
    services.ticket_resolve(
        actor=actor,
        ticket=t,
        resolution="问题已解决，客户认可。",
        article_id=_kb_answer(t),
        now=now + timedelta(minutes=5),
    )
    if submit:
        services.ticket_submit_to_province(
            actor=actor, ticket=t, note="投诉内容报送客户所属省10000+9", now=now + timedelta(minutes=10)
        )
    elif close:
        services.ticket_close(actor=actor, ticket=t, now=now + timedelta(minutes=10))


def _via_hotline(
    ctx: DemoContext, sender: Actor, hot: Actor, t: Ticket, t0: datetime, end: str, reason: str
) -> None:
    hotline = Team.objects.get(code="hotline")
    services.ticket_dispatch(
        actor=sender,
        ticket=t,
        to_team=hotline,
        reason_code=reason,
        note="首问无法解决，请语音客服协助",
        now=t0 + timedelta(minutes=15),
    )
    if end == "awaiting_acceptance":
        return
    if end == "returned":
        services.ticket_return(
            actor=hot,
            ticket=t,
            reason="not_ours",
            note="属省内业务开通问题，请省公司处理",
            now=t0 + timedelta(minutes=50),
        )
        return
    if end == "auto_accepted":
        # As the sweep does: accepted at the accept clock's deadline, and only once that has passed.
        from kefu.sla.selectors import clock_of

        hop = t.hops.get(status="pending")
        clock = clock_of(services.HOP, hop.pk, "accept")
        if clock is not None and clock.due_at is not None and clock.due_at + timedelta(minutes=1) <= ctx.now:
            services.hop_auto_accept(
                hop_id=hop.pk, now=clock.due_at + timedelta(minutes=1), deadline=clock.due_at
            )
        return
    late = ctx.rng.random() < 0.03  # now and then a result comes back after the 24 h
    services.ticket_accept(actor=hot, ticket=t, now=t0 + timedelta(minutes=ctx.rng.randint(20, 110)))
    if end == "accepted":
        return
    t1 = t0 + timedelta(hours=ctx.rng.randint(25, 30) if late else ctx.rng.randint(2, 20))
    if t.kind == "fault":
        _finish(hot, t, t1, close=False)
        if end == "closed":
            services.ticket_close(actor=sender, ticket=t, now=t1 + timedelta(hours=1))
        return
    services.ticket_return_result(
        actor=hot, ticket=t, result="语音客服已核实并处理，结果如下：平台侧已修复。", now=t1
    )
    if end == "result_returned":
        return
    _finish(sender, t, t1 + timedelta(hours=1), close=end == "closed")


def _scenario(ctx: DemoContext, slug: str, customer: Customer, flow: str, end: str) -> None:
    desk, am = _actor(f"agent_{slug}"), _actor(f"am_{slug}")
    hot, online = _actor("hotline_agent"), _actor("online_agent")
    if desk is None or am is None or hot is None or online is None:
        return
    t0 = _when(ctx, recent=end in OPEN_ENDS, span=_span(flow, end))
    if flow == "consult_first":
        t = _create(desk, customer, "consultation", ctx, t0)
        _finish(desk, t, t0 + timedelta(minutes=8), close=end == "closed")
    elif flow == "consult_hotline":
        t = _create(am, customer, "consultation", ctx, t0)
        _via_hotline(ctx, am, hot, t, t0, end, "needs_expert")
    elif flow == "accept_refer":
        t = _create(desk, customer, "acceptance", ctx, t0)
        services.ticket_refer(
            actor=desk,
            ticket=t,
            referred_to=ctx.rng.choice(["business_hall", "account_manager"]),
            now=t0 + timedelta(minutes=5),
        )
        services.ticket_close(actor=desk, ticket=t, now=t0 + timedelta(minutes=6))
    elif flow == "accept_am":
        t = _create(am, customer, "acceptance", ctx, t0)
        services.ticket_record_acceptance(
            actor=am, ticket=t, outcome="completed", now=t0 + timedelta(hours=3)
        )
        services.ticket_close(actor=am, ticket=t, now=t0 + timedelta(hours=3, minutes=1))
    elif flow == "complaint_desk":
        t = _create(desk, customer, "complaint", ctx, t0)
        if end == "waiting_customer":
            services.ticket_await_customer(
                actor=desk, ticket=t, note="请客户提供报错截图", now=t0 + timedelta(hours=1)
            )
        elif end == "closed":
            hours = (
                50 if ctx.rng.random() < 0.03 else ctx.rng.choice([3, 5, 8, 20, 30, 40])
            )  # rarely past 48 h
            _finish(desk, t, t0 + timedelta(hours=hours), close=True)
    elif flow in ("complaint_hotline_help", "fault_hotline_help"):
        t = _create(desk, customer, "complaint" if flow.startswith("complaint") else "fault", ctx, t0)
        _via_hotline(
            ctx, desk, hot, t, t0, end, "complaint_assist" if t.kind == "complaint" else "fault_unsolved"
        )
    elif flow == "complaint_at_hotline":
        agent = ctx.rng.choice([hot, online])
        t = _create(agent, customer, "complaint", ctx, t0)
        _finish(agent, t, t0 + timedelta(hours=2), close=False, submit=True)
        if end == "closed":  # the province desk records it and its follow-up (第三条(三)3)
            services.ticket_follow_up(
                actor=desk,
                ticket=t,
                note="已登记热线报送投诉，回访客户确认已解决。",
                now=t0 + timedelta(hours=2, minutes=40),
            )
    elif flow == "complaint_am":
        # The account manager helps: the complaint goes to the province desk (docs/tickets.md).
        t = _create(am, customer, "complaint", ctx, t0)
        services.ticket_dispatch(
            actor=am,
            ticket=t,
            to_team=Team.objects.get(code=desk_team_code(slug)),
            reason_code="am_handover",
            note="客户经理转交10000+9登记",
            now=t0 + timedelta(minutes=20),
        )
        if end == "closed":
            services.ticket_accept(actor=desk, ticket=t, now=t0 + timedelta(minutes=40))
            t1 = t0 + timedelta(hours=ctx.rng.choice([4, 10, 30]))
            services.ticket_return_result(
                actor=desk, ticket=t, result="省专席已登记处理：已协调解决。", now=t1
            )
            _finish(am, t, t1 + timedelta(minutes=30), close=True)
    elif flow == "fault_desk":
        t = _create(desk, customer, "fault", ctx, t0)
        _finish(desk, t, t0 + timedelta(hours=1), close=True)
    elif flow == "fault_at_hotline":
        t = _create(hot, customer, "fault", ctx, t0)
        if end == "closed":
            _finish(hot, t, t0 + timedelta(hours=4), close=True)
    elif flow == "off_rule":
        # A consultation passed from the hotline to the online team: not what the rules call for.
        t = _create(hot, customer, "consultation", ctx, t0)
        services.ticket_dispatch(
            actor=hot,
            ticket=t,
            to_team=Team.objects.get(code="online"),
            reason_code="customer_request",
            note="客户要求在线文字答复",
            now=t0 + timedelta(minutes=10),
        )


def load(ctx: DemoContext) -> None:
    shared = ctx.shared.get("customers") or {}
    slugs = [slug for _code, slug, _name, _full in PROVINCES]
    per_province = max(1, ctx.scale)
    total = len(slugs)
    for i, slug in enumerate(slugs, start=1):
        customers = shared.get(slug) or list(
            Customer.objects.unscoped("demo data").filter(province__slug=slug).order_by("pk")[:20]
        )
        exists = (
            Ticket.objects.unscoped("demo data is idempotent per province")
            .filter(
                province__slug=slug, first_contact_team__code__in=[desk_team_code(slug), am_team_code(slug)]
            )
            .exists()
        )
        if customers and not exists:
            scenarios = SCENARIOS if slug in ("bj", "gd", "js", "sh") else ctx.rng.sample(SCENARIOS, 8)
            for _ in range(per_province):
                for flow, end in scenarios:
                    _scenario(ctx, slug, ctx.rng.choice(customers), flow, end)
        ctx.progress("tickets", i, total)
