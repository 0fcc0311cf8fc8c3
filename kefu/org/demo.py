"""Demo users: one per role and kind of team, and three per province (agent, supervisor, account manager)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.hashers import make_password
from django.db import transaction

from .data import PROVINCES, am_team_code, desk_team_code
from .models import Membership, Role, Team, User

if TYPE_CHECKING:
    from kefu.demo.loader import DemoContext

# (username, display name, [(team code, role)], staff)
NATIONAL_USERS: list[tuple[str, str, list[tuple[str, str]], bool]] = [
    ("admin", "系统管理员", [("hq_service", Role.ADMIN)], True),
    (
        "hq_reviewer",
        "集团客服部审核员",
        [("hq_service", Role.KB_PUBLISHER), ("hq_service", Role.ANALYST)],
        False,
    ),
    ("hq_analyst", "集团客服部统计员", [("hq_service", Role.ANALYST)], False),
    ("hq_confirmer", "政企事业部产品经理", [("hq_business", Role.KB_CONFIRMER)], False),
    ("bu_analyst", "政企事业部分析员", [("hq_business", Role.ANALYST)], False),
    ("kb_author", "运营单位知识编写员", [("knowledge", Role.KB_AUTHOR)], False),
    ("kb_checker", "运营单位知识审核员", [("knowledge", Role.KB_AUTHOR)], False),
    ("ops_analyst", "运营单位统计员", [("knowledge", Role.ANALYST)], False),
    ("hotline_agent", "热线坐席甲", [("hotline", Role.AGENT)], False),
    ("hotline_agent2", "热线坐席乙", [("hotline", Role.AGENT)], False),
    ("hotline_lead", "热线班长", [("hotline", Role.SUPERVISOR)], False),
    ("online_agent", "在线客服坐席", [("online", Role.AGENT)], False),
    ("online_lead", "在线客服班长", [("online", Role.SUPERVISOR)], False),
]


def province_users(slug: str, name: str) -> list[tuple[str, str, list[tuple[str, str]], bool]]:
    return [
        (f"agent_{slug}", f"{name}专席坐席", [(desk_team_code(slug), Role.AGENT)], False),
        (f"lead_{slug}", f"{name}专席班长", [(desk_team_code(slug), Role.SUPERVISOR)], False),
        (f"am_{slug}", f"{name}客户经理", [(am_team_code(slug), Role.ACCOUNT_MANAGER)], False),
    ]


def all_demo_users() -> list[tuple[str, str, list[tuple[str, str]], bool]]:
    users = list(NATIONAL_USERS)
    for _code, slug, name, _full in PROVINCES:
        users.extend(province_users(slug, name))
    return users


@transaction.atomic
def load(ctx: DemoContext) -> None:
    password = make_password(ctx.password)  # hashed once: the same demo password for everyone
    teams = {t.code: t for t in Team.objects.all()}
    specs = all_demo_users()
    for i, (username, display, seats, staff) in enumerate(specs, start=1):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "display_name": display,
                "password": password,
                "is_staff": staff,
                "is_superuser": staff,
                "email": f"{username}@demo.xinshitong.example",
            },
        )
        for team_code, role in seats:
            Membership.objects.get_or_create(user=user, team=teams[team_code], role=role)
        ctx.progress("users", i, len(specs))
    for team in teams.values():
        if not team.email:
            team.email = f"{team.code}@demo.xinshitong.example"
            team.save(update_fields=["email"])
