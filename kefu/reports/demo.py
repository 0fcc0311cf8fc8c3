"""Demo: report recipients for HQ and every province, the rollup over the demo orders, last month's mail.

``./kefu.sh run`` sets the file mail backend, so the demo mail lands in var/mail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from kefu.org.models import User

from . import months, rollup, services
from .models import Recipient

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext


def load(ctx: DemoContext) -> None:
    services.recipients_seed()
    # The demo's HQ analyst and Jiangsu supervisor receive their reports too (the "done when").
    for username, unit_code in (("hq_analyst", "hq_service"), ("lead_js", "branch_js")):
        user = User.objects.filter(username=username).first()
        if user is not None:
            Recipient.objects.get_or_create(
                unit_id=_unit_id(unit_code),
                email=user.email or f"{username}@demo.xinshitong.example",
                defaults={"name": user.display_name or username, "user": user},
            )
    # The orders of the demo were stamped while it ran, after ctx.now: read up to the real now.
    result = rollup.run(now=timezone.now())
    ctx.out.write(f"  rollup: {result.cells} cells, {result.inserted} rows\n")
    if "filebased" in settings.EMAIL_BACKEND or "locmem" in settings.EMAIL_BACKEND:
        created, sent = services.mail_month_now(actor=None, month=months.previous_month(ctx.now), now=ctx.now)
        ctx.out.write(
            f"  report mail for {months.key(months.previous_month(ctx.now))}: "
            f"{created} queued, {sent.sent} sent ({settings.EMAIL_BACKEND.rsplit('.', 2)[-2]})\n"
        )
    else:
        ctx.out.write(
            "  report mail not sent by the demo (SMTP backend configured): run manage.py reports_mail\n"
        )


def _unit_id(code: str) -> int:
    from kefu.org.models import Unit

    return Unit.objects.get(code=code).pk
