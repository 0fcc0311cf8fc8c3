from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.demo.loader import DEMO_PASSWORD
from kefu.org.models import Membership


class Command(BaseCommand):
    help = "打印演示账号 / Print the demo logins"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        rows: dict[str, list[str]] = {}
        for m in (
            Membership.objects.select_related("user", "team")
            .filter(user__username__regex=r"^[a-z_0-9]+$", user__is_active=True, is_active=True)
            .order_by("team__province__report_order", "team__code", "user__username")
        ):
            rows.setdefault(m.user.username, []).append(f"{m.team.name}/{m.get_role_display()}")
        w = self.stdout.write
        w("")
        w(f"  Kefu 客服平台: {options['url']}")
        w(f"  演示密码 / demo password (all users): {DEMO_PASSWORD}")
        w("  national users:")
        provincial = []
        for username, seats in rows.items():
            if any(username.startswith(p) for p in ("agent_", "lead_", "am_")):
                provincial.append(username)
                continue
            w(f"    {username:<16} {'; '.join(seats)}")
        if provincial:
            w(
                "  per province (slug = bj tj he sx nm ln jl hl sh js zj ah fj jx sd ha hb hn gd gx hi cq sc gz yn xz sn gs qh nx xj):"
            )
            w("    agent_<slug>     10000+9 desk agent        e.g. agent_bj, agent_js, agent_gd")
            w("    lead_<slug>      10000+9 desk supervisor   e.g. lead_js")
            w("    am_<slug>        account manager           e.g. am_gd")
        w("")
