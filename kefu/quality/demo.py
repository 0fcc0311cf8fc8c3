"""Demo data: a blocked and a confirmed-warning reply on Beijing orders, this month's sample, and a few
inspections in each state (scored, acknowledged, appealed, decided) so that the list and the report have substance."""

from __future__ import annotations

import contextlib
from typing import Any

from kefu.core.errors import DomainError
from kefu.org.access import Actor, actor_for
from kefu.org.models import User
from kefu.tickets.models import Status as TicketStatus
from kefu.tickets.models import Ticket

from . import services
from .models import Inspection


def _actor(username: str) -> Actor | None:
    user = User.objects.filter(username=username).first()
    return actor_for(user) if user is not None else None


def load(ctx: Any) -> None:
    agent, lead, hq = _actor("agent_bj"), _actor("lead_bj"), _actor("hq_reviewer")
    if agent is None or lead is None or Inspection.objects.unscoped("demo: already loaded?").exists():
        return
    from kefu.tickets import services as tickets

    open_orders = list(
        Ticket.objects.unscoped("demo: the Beijing agent's open orders")
        .filter(holder_team__code="desk_bj", status=TicketStatus.OPEN)
        .order_by("id")[:2]
    )
    texts = [("你自己不会看说明书吗？别 再 来 问 了！", False), ("不是跟你说了吗，需要先升级客户端。", True)]
    for t, (text, confirm) in zip(open_orders, texts, strict=False):
        # the banned one is refused (and recorded): that is the point
        with contextlib.suppress(DomainError):
            tickets.ticket_reply(
                actor=agent, ticket=t, method="call_back", content=text, norms_confirmed=confirm
            )
    month = ctx.now.date().replace(day=1)
    services.sample_month(actor=None, month=month, now=ctx.now)
    rows = list(Inspection.objects.unscoped("demo: score a few").order_by("id")[:8])
    for i, ins in enumerate(rows):
        inspector = lead if ins.province_id is not None else hq
        if inspector is None or ins.agent_id == inspector.user.pk:
            continue
        points = {item.code: item.weight for item in services.items_for(ins)}
        if i % 3 == 0:
            first = next(iter(points))
            points[first] = max(0, points[first] - 10)
        try:
            ins = services.inspection_score(
                actor=inspector, inspection=ins, points=points, comment="演示：按第五、六条逐项评分"
            )
            owner = actor_for(ins.agent)
            if i % 4 == 1:
                services.inspection_acknowledge(actor=owner, inspection=ins)
            elif i % 4 == 2:
                ins = services.inspection_appeal(
                    actor=owner, inspection=ins, reason="演示：已按规范用语致谢，请复核"
                )
                if i % 8 == 2:
                    services.inspection_decide(
                        actor=inspector, inspection=ins, final_score="95", comment="演示：复核录音，酌情加分"
                    )
        except DomainError:
            continue
    ctx.progress("quality", 1, 1)
