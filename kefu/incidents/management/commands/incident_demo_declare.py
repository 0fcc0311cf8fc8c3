"""Declare a demo incident now (open), as the hotline lead: HQ gets its alert, the desks a bulletin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kefu.org.access import actor_for
from kefu.org.models import User

from ... import services


class Command(BaseCommand):
    help = "宣告一个演示用平台突发事件(进行中)，并由集团客服部下发通报 / declare an open demo incident"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--provinces", default="bj,sh,js,gd", help="受影响省份简码，逗号分隔；all = 全国")
        parser.add_argument("--no-bulletin", action="store_true", help="只宣告，不下发通报")

    def handle(self, *args: Any, **opts: Any) -> None:
        lead = User.objects.filter(username="hotline_lead").first()
        hq = User.objects.filter(username="hq_reviewer").first()
        if lead is None or hq is None:
            raise CommandError(
                "演示用户不存在，请先运行 manage.py demo_load / demo users missing: run demo_load"
            )
        now = timezone.now()
        slugs = [s.strip() for s in opts["provinces"].split(",") if s.strip()]
        everywhere = slugs == ["all"]
        inc = services.incident_declare(
            actor=actor_for(lead),
            title="演示：云平台会议入会失败",
            services="云会议入会",
            symptoms="部分终端入会失败，提示“网络错误”。",
            impact="P2",
            started_at=now - timedelta(minutes=15),
            detected_at=now - timedelta(minutes=5),
            all_provinces=everywhere,
            province_slugs=[] if everywhere else slugs,
            measures="运营单位排查中。",
            workaround="可通过电话方式入会。",
            auto_link=False,
            now=now,
        )
        if not opts["no_bulletin"]:
            services.bulletin_issue(
                actor=actor_for(hq),
                incident=inc,
                customer_script="您好，新视通平台部分区域出现入会故障，正在抢修，可先以电话方式入会，敬请谅解。",
                agent_guidance="登记为突发事件并关联本事件；恢复后统一答复。",
            )
        self.stdout.write(f"{inc.number} {inc.title}: /incidents/{inc.number}/")
