"""A week of online-service conversations with ratings; online_agent on duty with two visitors waiting.

Written directly (bulk) rather than through the services: the services take
"now" as the present, and a week of history needs the past.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kefu.org.models import User
from kefu.realtime import services as rt

from .models import ChatSettings, Conversation, Message, Presence

SCRIPTS: list[tuple[str, list[tuple[str, str]], str]] = [
    (
        "consultation",
        [
            ("visitor", "你好，请问新视通的会议最多支持多少人同时入会？"),
            ("agent", "您好，标准版会议室最多支持 300 方同时入会，如需更大规模可联系客户经理开通大型会议。"),
            ("visitor", "好的，那手机端也可以入会吗？"),
            ("agent", "可以的，手机安装新视通客户端后输入会议号即可入会，4G 网络下也能正常使用。"),
            ("visitor", "明白了，谢谢。"),
        ],
        "satisfied",
    ),
    (
        "fault",
        [
            ("visitor", "我们会议室的终端登录不上，一直提示账号异常。"),
            ("agent", "非常抱歉给您带来不便。请问终端显示的具体错误码是多少？"),
            ("visitor", "显示 E1003。"),
            ("agent", "这个问题我帮您记录并核实，已为您登记故障工单，核实后尽快答复您。"),
        ],
        "neutral",
    ),
    (
        "consultation",
        [
            ("visitor", "请问会议录制的文件保存多久？"),
            ("agent", "您好，云端录制文件默认保存 30 天，到期前可下载到本地保存。"),
            ("visitor", "可以延长吗？"),
            ("agent", "可以，购买云存储扩容包后保存期可延长至 180 天，您看这样可以吗？"),
            ("visitor", "好的，谢谢。"),
        ],
        "satisfied",
    ),
    (
        "consultation",
        [
            ("visitor", "账单里多了一笔费用，是什么原因？"),
            ("agent", "您好，为了更好地为您服务，我先和您确认一下问题：本月账单出现未知费用，请问是这样吗？"),
            ("visitor", "是的。"),
            ("agent", "这笔费用是上月超出套餐的通话时长费用，明细可在网上营业厅查询。"),
            ("visitor", "还是觉得不太清楚。"),
        ],
        "unsatisfied",
    ),
    ("silent", [], ""),
]
UNITS = ["某市应急管理局", "某县人民医院", "某省交通运输厅", "某区教育局", "某集团公司", "某市水务局"]
NAMES = ["王先生", "李女士", "张工", "刘主任", "陈老师", "赵经理", "孙科长", "周女士"]


def load(ctx: Any) -> None:
    s = ChatSettings.objects.select_related("team").first()
    agents = list(User.objects.filter(username__in=["online_agent", "online_lead"]).order_by("username"))
    if s is None or not agents:
        return
    agent = (
        next(u for u in agents if u.username == "online_agent")
        if any(u.username == "online_agent" for u in agents)
        else agents[0]
    )
    Presence.objects.update_or_create(
        user=agent, defaults={"status": Presence.Status.ONLINE, "changed_at": ctx.now}
    )
    rng = ctx.rng
    convs: list[Conversation] = []
    scripts: list[tuple[list[tuple[str, str]], Any]] = []
    for day in range(7, 0, -1):
        base = (
            (ctx.now - timedelta(days=day)).astimezone().replace(hour=8, minute=30, second=0, microsecond=0)
        )
        for _ in range(rng.randint(12, 22)):
            kind, lines, rating = rng.choice(SCRIPTS)
            start = base + timedelta(minutes=rng.randint(0, 11 * 60))
            if rng.random() < 0.07:  # left before an agent accepted
                convs.append(
                    Conversation(
                        team=s.team,
                        status="abandoned",
                        visitor_name=rng.choice(NAMES),
                        visitor_unit=rng.choice(UNITS),
                        created_at=start,
                        closed_at=start + timedelta(seconds=rng.randint(60, 400)),
                        closed_by="visitor",
                    )
                )
                scripts.append(([("visitor", lines[0][1] if lines else "你好")], None))
                continue
            wait = timedelta(seconds=int(rng.lognormvariate(3.3, 0.8)))
            accepted = start + wait
            first = accepted + timedelta(seconds=rng.randint(10, 90))
            closed = accepted + timedelta(minutes=rng.randint(3, 15))
            silent = kind == "silent"
            convs.append(
                Conversation(
                    team=s.team,
                    agent=agent,
                    status="closed",
                    visitor_name=rng.choice(NAMES),
                    visitor_unit=rng.choice(UNITS),
                    created_at=start,
                    accepted_at=accepted,
                    first_response_at=None if silent else first,
                    visitor_asked=not silent,
                    closed_at=closed,
                    closed_by="idle" if silent else "agent",
                    rating="" if silent else (rating if rng.random() < 0.8 else ""),
                    kb_answered=kind == "consultation" and rng.random() < 0.6,
                )
            )
            scripts.append((lines, (start, accepted, first, closed, silent)))
    Conversation.objects.bulk_create(convs)
    messages: list[Message] = []
    for c, (lines, times) in zip(convs, scripts, strict=True):
        rows = _messages_for(c, lines, times, agent)
        c.last_seq = len(rows)
        messages.extend(rows)
    Message.objects.bulk_create(messages, batch_size=500)
    Conversation.objects.bulk_update(convs, ["last_seq"], batch_size=500)
    # Two visitors waiting right now, so that online_agent's console is live.
    for name, unit, text in [
        ("王先生", "某市应急管理局", "你好，会议中对方听不到我的声音怎么办？"),
        ("李女士", "某县人民医院", "请问怎么预约一个明天上午的会议？"),
    ]:
        c = Conversation.objects.create(
            team=s.team,
            visitor_name=name,
            visitor_unit=unit,
            created_at=ctx.now - timedelta(seconds=rng.randint(20, 200)),
        )
        token, _raw = rt.visitor_token_issue(
            purpose=f"chat.conversation:{c.pk}",
            groups_allowed=[c.group],
            ttl=timedelta(hours=12),
            now=ctx.now,
        )
        Message.objects.create(conversation=c, seq=1, sender="visitor", text=text, created_at=c.created_at)
        Conversation.objects.filter(pk=c.pk).update(token=token, last_seq=1, visitor_asked=True)
    ctx.progress("chat", len(convs), len(convs))


GREETING = "您好，欢迎使用新视通(4G版)在线客服，请问有什么可以帮您？"
CLOSING = "请问还有其他问题需要咨询吗？如没有，本次对话将结束，感谢您的咨询，祝您工作顺利！"
SILENT = "感谢您使用新视通(4G版)在线客服，欢迎您以后继续使用！"


def _messages_for(c: Conversation, lines: list[tuple[str, str]], times: Any, agent: User) -> list[Message]:
    out: list[Message] = []

    def add(sender: str, text: str, when: Any, kind: str = "text") -> None:
        out.append(
            Message(
                conversation=c,
                seq=len(out) + 1,
                sender=sender,
                kind=kind,
                text=text,
                created_at=when,
                author=agent if sender == "agent" else None,
                client_id=f"demo-{len(out) + 1}",
            )
        )

    if times is None:
        for sender, text in lines:
            add(sender, text, c.created_at)
        return out
    start, accepted, first, closed, silent = times
    if lines:
        add("visitor", lines[0][1], start)
    add("agent", GREETING, accepted, "greeting")
    step = (closed - first) / max(1, len(lines))
    for i, (sender, text) in enumerate(lines[1:], start=1):
        add(sender, text, first + step * i)
    add("agent", SILENT if silent else CLOSING, closed, "closing")
    return out
