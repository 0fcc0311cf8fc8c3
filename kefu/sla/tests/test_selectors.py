"""Who sees which notices and clocks; queues ordered by the nearest deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from conftest import login_client
from kefu.org.models import Province, Role, Team
from kefu.sla import registry, selectors
from kefu.sla import services as sla
from kefu.sla.sweep import sweep

HOP = "seltest.hop"


def _start(n: int, team_code: str, slug: str, ago: timedelta) -> None:
    sla.clock_start(
        owner_type=HOP,
        owner_id=n,
        kind="resolve",
        ticket_kind="complaint",
        team=Team.objects.get(code=team_code),
        province=Province.objects.get(slug=slug),
        now=timezone.now() - ago,
    )


@pytest.fixture
def breached(db):
    _start(1, "hotline", "bj", timedelta(days=2, hours=12))  # due 36 h ago; the others 24 h ago
    _start(2, "desk_bj", "bj", timedelta(days=3))
    _start(3, "desk_sh", "sh", timedelta(days=3))
    sweep()


def test_agents_see_their_teams_notices(breached, make_actor):
    hotline = make_actor("hl", "hotline", Role.AGENT)
    desk = make_actor("dbj", "desk_bj", Role.AGENT)
    assert [n.owner_id for n in selectors.notices_for(hotline)] == [1]
    assert [n.owner_id for n in selectors.notices_for(desk)] == [2]


def test_a_province_supervisor_sees_every_team_of_the_province_only(breached, make_actor):
    lead = make_actor("lbj", "desk_bj", Role.SUPERVISOR)
    assert sorted(n.owner_id for n in selectors.notices_for(lead)) == [1, 2]
    assert sorted(i.clock.owner_id for i in selectors.overdue(lead.scope, now=timezone.now())) == [1, 2]


def test_owner_links_come_from_the_registry(breached, make_actor):
    registry.register_owner_link(HOP, lambda ids: {i: (f"工单{i}", f"/tickets/{i}/") for i in ids})
    try:
        lead = make_actor("lbj", "desk_bj", Role.SUPERVISOR)
        rows = selectors.annotate_links(selectors.overdue(lead.scope, now=timezone.now()))
        assert [(r["label"], r["url"]) for r in rows] == [("工单1", "/tickets/1/"), ("工单2", "/tickets/2/")]
    finally:
        registry._LINKS.pop(HOP, None)


def test_queue_sorted_by_nearest_deadline(db):
    # Any model can stand for the owner: here teams, owner_id = team.pk.
    teams = list(Team.objects.filter(code__in=["desk_bj", "desk_sh", "desk_js"]).order_by("code"))
    now = timezone.now()
    for team, ago in zip(teams, [timedelta(hours=1), timedelta(hours=30), timedelta(hours=10)], strict=True):
        sla.clock_start(
            owner_type="seltest.team",
            owner_id=team.pk,
            kind="resolve",
            ticket_kind="complaint",
            team=team,
            province=team.province,
            now=now - ago,
        )
    ordered = (
        Team.objects.filter(pk__in=[t.pk for t in teams])
        .annotate(sla_due=selectors.next_due_subquery("seltest.team"))
        .order_by(F("sla_due").asc(nulls_last=True))
    )
    # desk_bj started 1 h ago (47 h left), desk_js 30 h ago (18 h left), desk_sh 10 h ago (38 h left).
    assert [t.code for t in ordered] == ["desk_js", "desk_sh", "desk_bj"]


def test_supervisor_home_panel_counts(breached, client, make_actor):
    registry.register_owner_link(HOP, lambda ids: {i: (f"工单{i}", f"/tickets/{i}/") for i in ids})
    try:
        login_client(client, make_actor("lbj", "desk_bj", Role.SUPERVISOR))
        page = client.get("/").content.decode()
    finally:
        registry._LINKS.pop(HOP, None)
    assert "已超时 2" in page
    assert '<a href="/tickets/1/">工单1</a>' in page  # the nearest deadlines name their orders


@pytest.fixture
def lead_bj_on_hotline(db):
    """A Beijing desk supervisor who also takes hotline shifts as an agent (two seats)."""
    from kefu.org.access import actor_for
    from kefu.org.models import Membership, User

    user = User.objects.create_user(username="lbj_hl", password="correct-horse-42", display_name="双岗班长")
    Membership.objects.create(user=user, team=Team.objects.get(code="desk_bj"), role=Role.SUPERVISOR)
    Membership.objects.create(user=user, team=Team.objects.get(code="hotline"), role=Role.AGENT)
    return actor_for(user)


def test_supervising_one_province_and_working_a_national_team_does_not_open_other_provinces(
    breached, lead_bj_on_hotline, client
):
    # Given clocks 1 (hotline, Beijing), 2 (Beijing desk) and 3 (Shanghai desk), all breached:
    # the Beijing seat sees all of Beijing, the hotline agent seat only the hotline's clocks; never 3.
    actor = lead_bj_on_hotline
    assert actor.scope.national and actor.can("ticket.supervise")
    assert sorted(n.owner_id for n in selectors.notices_for(actor)) == [1, 2]
    login_client(client, actor)
    for url in ("/api/sla/overdue", "/api/sla/notices"):
        assert sorted(r["owner_id"] for r in client.get(url).json()) == [1, 2], url
    rows = client.get("/api/sla/rates?group=team&month=" + timezone.now().strftime("%Y-%m")).json()["rows"]
    assert sum(r["accepted"] for r in rows) <= 2
    provinces = client.get("/api/sla/rates?group=province&month=" + timezone.now().strftime("%Y-%m")).json()
    assert "sh" not in {r["label"] for r in provinces["rows"]} and "上海" not in {
        r["label"] for r in provinces["rows"]
    }
    page = client.get("/").content.decode()
    assert "已超时 2" in page


def test_notices_name_the_work_order_not_the_owner_id(breached, make_actor, client):
    registry.register_owner_link(HOP, lambda ids: {i: (f"工单{i}", f"/tickets/{i}/") for i in ids})
    try:
        lead = make_actor("lbj", "desk_bj", Role.SUPERVISOR)
        login_client(client, lead)
        page = client.get("/sla/").content.decode()
        assert '<a href="/tickets/2/">工单2</a>' in page and f"{HOP}#" not in page
        api = client.get("/api/sla/notices").json()
        assert sorted((n["owner_label"], n["owner_url"]) for n in api) == [
            ("工单1", "/tickets/1/"),
            ("工单2", "/tickets/2/"),
        ]
    finally:
        registry._LINKS.pop(HOP, None)


def test_board_and_home_queries_do_not_grow_with_the_rows(db, make_actor, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = make_actor("lbj", "desk_bj", Role.SUPERVISOR)
    login_client(client, lead)
    counts = []
    for n in (3, 6):  # both past the five "nearest" rows the home panel lists
        for i in range(n):
            _start(1000 * n + i, "desk_bj", "bj", timedelta(days=3))
            _start(1000 * n + 500 + i, "hotline", "bj", timedelta(days=3))
        sweep()
        client.get("/")  # warm per-process caches (calendars, navigation) before counting
        with CaptureQueriesContext(connection) as board:
            assert client.get("/sla/").status_code == 200
        with CaptureQueriesContext(connection) as home:
            assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/sla/overdue").status_code == 200
            assert client.get("/api/sla/notices").status_code == 200
        counts.append((len(board), len(home), len(api)))
    assert counts[0] == counts[1], counts
