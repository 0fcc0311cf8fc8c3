"""On-time rates (第七条): counting, scope, projection, late-order allowance; pages and API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conftest import login_client
from kefu.core.models import JobHeartbeat
from kefu.org.models import Province, Role, Team
from kefu.sla import rates
from kefu.sla import services as sla
from kefu.sla.rates import Counts, project
from kefu.sla.sweep import JOB_NAME

SH = ZoneInfo("Asia/Shanghai")
HOP = "ratetest.hop"


def test_projection_is_pure_and_counts_the_allowance():
    counts = Counts(on_time=95, late=1, pending=4)
    recent = Counts(on_time=24, late=0, pending=4)
    proj, volume, allowance = project(
        counts,
        recent,
        elapsed=timedelta(days=15),
        remaining=timedelta(days=15),
        recent_span=timedelta(days=7),
        target=98.0,
    )
    # 28 orders in the last 7 days = 4 a day, 60 more to come: 160 in the month.
    assert volume == 160
    # No late order lately: only the one late so far.
    assert proj == round(100 * (1 - 1 / 160), 2)
    # 2% of 160 = 3.2 -> 3 late orders allowed, 1 used.
    assert allowance == 2


def test_projection_with_no_orders():
    assert project(
        Counts(0, 0, 0),
        Counts(0, 0, 0),
        elapsed=timedelta(days=1),
        remaining=timedelta(days=29),
        recent_span=timedelta(days=1),
        target=98.0,
    ) == (None, 0, 0)


def _order(
    n: int,
    team: Team,
    province: Province,
    started: datetime,
    stop_after: timedelta | None,
    kind: str = "complaint",
) -> None:
    sla.clock_start(
        owner_type=HOP,
        owner_id=n,
        kind="resolve",
        ticket_kind=kind,
        team=team,
        province=province,
        now=started,
    )
    if stop_after is not None:
        sla.clock_stop(owner_type=HOP, owner_id=n, kind="resolve", now=started + stop_after)


@pytest.fixture
def november(db):
    """Hotline and two desks, orders accepted in November 2026; 'now' is 20 Nov."""
    hotline, desk_bj, desk_sh = (Team.objects.get(code=c) for c in ("hotline", "desk_bj", "desk_sh"))
    bj, sh = Province.objects.get(slug="bj"), Province.objects.get(slug="sh")
    t = datetime(2026, 11, 10, 9, tzinfo=SH)
    n = iter(range(1, 1000))
    for _ in range(48):
        _order(next(n), hotline, bj, t, timedelta(hours=5))  # on time
    _order(next(n), hotline, bj, t, timedelta(hours=25))  # late
    _order(next(n), hotline, sh, t, None)  # open and overdue: late
    _order(next(n), hotline, sh, datetime(2026, 11, 20, 8, tzinfo=SH), None)  # pending
    _order(next(n), desk_bj, bj, t, timedelta(hours=47))  # on time (48 h)
    _order(next(n), desk_sh, sh, t, timedelta(hours=49))  # late
    _order(next(n), desk_sh, sh, t, timedelta(hours=1), kind="fault")  # not a complaint
    _order(next(n), desk_sh, sh, datetime(2026, 10, 31, 23, tzinfo=SH), timedelta(hours=1))  # October
    sla.clock_start(
        owner_type=HOP,
        owner_id=999,
        kind="resolve",
        ticket_kind="complaint",
        team=desk_bj,
        province=bj,
        now=t,
    )
    sla.clock_stop(owner_type=HOP, owner_id=999, kind="resolve", now=t + timedelta(hours=1), handed_over=True)
    return datetime(2026, 11, 20, 12, tzinfo=SH)


def test_rates_per_team(november):
    from kefu.core.scope import Scope

    rows = {
        r.label: r for r in rates.on_time_rates(Scope.everything(), month=date(2026, 11, 1), now=november)
    }
    hot = rows["新视通语音客服(4009208566)"]
    assert (hot.counts.on_time, hot.counts.late, hot.counts.pending) == (48, 2, 1)
    assert hot.rate == 96.0 and hot.below_target
    assert (rows["北京10000+9政企专席"].counts.on_time, rows["北京10000+9政企专席"].counts.late) == (1, 0)
    assert rows["上海10000+9政企专席"].rate == 0.0


def test_rates_are_scoped_to_the_province(november):
    from kefu.core.scope import Scope

    bj = Province.objects.get(slug="bj")
    rows = rates.on_time_rates(
        Scope.provinces([bj.pk]), month=date(2026, 11, 1), now=november, group_by="province"
    )
    # Beijing's own desk only (第七条(二)2): the hotline's 49 hops for Beijing orders are the hotline's figure.
    assert [(r.label, r.counts.on_time, r.counts.late) for r in rows] == [("北京", 1, 0)]


def test_an_order_the_desk_sent_to_the_hotline_counts_once_for_the_province(db):
    from kefu.core.scope import Scope

    hotline, desk_js = Team.objects.get(code="hotline"), Team.objects.get(code="desk_js")
    js = desk_js.province
    t = datetime(2026, 11, 10, 9, tzinfo=SH)
    # One complaint order: the desk's 48 h clock (on time) and the hotline hop's 24 h clock (late).
    sla.clock_start(
        owner_type="t.order",
        owner_id=1,
        kind="resolve",
        ticket_kind="complaint",
        team=desk_js,
        province=js,
        now=t,
    )
    sla.clock_start(
        owner_type="t.hop",
        owner_id=1,
        kind="resolve",
        ticket_kind="complaint",
        team=hotline,
        province=js,
        now=t,
    )
    sla.clock_stop(owner_type="t.hop", owner_id=1, kind="resolve", now=t + timedelta(hours=30))
    sla.clock_stop(owner_type="t.order", owner_id=1, kind="resolve", now=t + timedelta(hours=31))
    now = datetime(2026, 11, 20, 12, tzinfo=SH)
    by_province = rates.on_time_rates(
        Scope.everything(), month=date(2026, 11, 1), now=now, group_by="province"
    )
    assert [(r.label, r.counts.accepted, r.counts.on_time, r.counts.late) for r in by_province] == [
        ("江苏", 1, 1, 0)
    ]
    by_team = {
        r.label: (r.counts.on_time, r.counts.late)
        for r in rates.on_time_rates(Scope.everything(), month=date(2026, 11, 1), now=now, group_by="team")
    }
    assert by_team == {"江苏10000+9政企专席": (1, 0), "新视通语音客服(4009208566)": (0, 1)}


def test_rates_by_ticket_kind_and_month(november):
    from kefu.core.scope import Scope

    rows = rates.on_time_rates(
        Scope.everything(), month=date(2026, 11, 1), now=november, group_by="ticket_kind", ticket_kind=""
    )
    # Faults have no resolve policy in 第七条, so no clock: only complaints are counted.
    assert {r.label: r.counts.accepted for r in rows} == {"complaint": 53}
    october = rates.on_time_rates(Scope.everything(), month=date(2026, 10, 1), now=november)
    assert [(r.counts.on_time, r.counts.late) for r in october] == [(1, 0)]


def test_daily_series_is_cumulative(november):
    from kefu.core.scope import Scope

    series = rates.daily_series(Scope.everything(), month=date(2026, 11, 1), now=november)
    assert len(series) == 20
    assert series[8][2] is None  # nothing accepted before 10 Nov
    assert series[9][1] == Counts(on_time=49, late=3, pending=0)
    assert series[-1][1].pending == 1


@pytest.mark.django_db
def test_supervisor_pages_and_api_render(client, make_actor, november):
    lead = make_actor("lead_bj", "desk_bj", Role.SUPERVISOR)
    login_client(client, lead)
    assert client.get("/sla/").status_code == 200
    page = client.get("/sla/rates/?month=2026-11&group=team")
    assert page.status_code == 200
    assert "98%" in page.content.decode()
    assert client.get("/sla/rates/?month=nope").status_code == 422
    assert client.get("/sla/policies/").status_code == 200
    api = client.get("/api/sla/rates?month=2026-11&group=province").json()
    assert [r["label"] for r in api["rows"]] == ["北京"]
    assert client.get("/api/sla/rates?group=city").status_code == 422
    assert client.get("/api/sla/overdue").status_code == 200
    assert len(client.get("/api/sla/policies").json()) == 6  # + the account managers' complaints (48 h)
    assert client.get("/api/sla/calendars").json()["holidays"]


@pytest.mark.django_db
def test_agents_see_only_their_teams_clocks(client, make_actor):
    hotline, desk_bj = Team.objects.get(code="hotline"), Team.objects.get(code="desk_bj")
    bj = Province.objects.get(slug="bj")
    long_ago = timezone.now() - timedelta(days=5)
    _order(1, hotline, bj, long_ago, None)
    _order(2, desk_bj, bj, long_ago, None)
    login_client(client, make_actor("agent_bj", "desk_bj", Role.AGENT))
    rows = client.get("/api/sla/overdue").json()
    assert [(r["owner_id"], r["team"]) for r in rows] == [(2, "desk_bj")]


@pytest.mark.django_db
def test_home_page_shows_sweep_heartbeat_to_admins(client, admin_actor, agent_bj):
    login_client(client, admin_actor)
    page = client.get("/").content.decode()
    assert "时限巡检任务" in page and "从未运行" in page and "时限巡检已延迟" in page
    beat = JobHeartbeat.objects.create(name=JOB_NAME, last_success_at=timezone.now() - timedelta(minutes=10))
    assert "时限巡检已延迟" in client.get("/").content.decode()
    beat.last_success_at = timezone.now()
    beat.save()
    page = client.get("/").content.decode()
    assert "时限巡检已延迟" not in page and "自动处理失败" not in page
    beat.last_summary = {"warned": 0, "breached": 3, "handled": 1, "failed": 2, "batches": 1}
    beat.save()
    assert "上次巡检有 2 个自动处理失败" in client.get("/").content.decode()
    client.logout()
    login_client(client, agent_bj)
    assert "时限巡检任务" not in client.get("/").content.decode()


def test_target_comes_from_the_policies(november):
    from kefu.core.scope import Scope
    from kefu.sla.models import Policy

    Policy.objects.filter(target="resolve", ticket_kind="complaint").update(on_time_target=99)
    rows = rates.on_time_rates(Scope.everything(), month=date(2026, 11, 1), now=november)
    assert {r.target for r in rows} == {99.0}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["month=9999-12", "month=0001-01", "month=1999-12", "month=2026-1-1", "ticket_kind=" + "x" * 31]
)
def test_out_of_range_parameters_are_422_in_the_error_shape(client, make_actor, query):
    login_client(client, make_actor("lead_bj", "desk_bj", Role.SUPERVISOR))
    api = client.get("/api/sla/rates?" + query)
    assert api.status_code == 422
    assert api.json()["code"] == "validation_error" and api.json()["message"] and api.json()["message_en"]
    if query.startswith("month"):
        assert client.get("/sla/rates/?" + query).status_code == 422


@pytest.mark.django_db
def test_rates_page_explains_a_month_with_nothing_decided_yet(client, make_actor):
    desk_bj = Team.objects.get(code="desk_bj")
    sla.clock_start(
        owner_type=HOP,
        owner_id=1,
        kind="resolve",
        ticket_kind="complaint",
        team=desk_bj,
        province=desk_bj.province,
        now=timezone.now(),
    )
    login_client(client, make_actor("lead_bj", "desk_bj", Role.SUPERVISOR))
    page = client.get("/sla/rates/").content.decode()
    assert "及时率待定" in page


@pytest.mark.django_db
def test_a_clock_paused_after_its_deadline_counts_late_before_the_sweep_saw_it():
    from kefu.core.scope import Scope

    desk_bj = Team.objects.get(code="desk_bj")
    t = datetime(2026, 11, 10, 9, tzinfo=SH)
    sla.clock_start(
        owner_type=HOP,
        owner_id=1,
        kind="resolve",
        ticket_kind="complaint",
        team=desk_bj,
        province=desk_bj.province,
        now=t,
    )
    sla.clock_pause(
        owner_type=HOP, owner_id=1, kind="resolve", now=t + timedelta(hours=50)
    )  # 2 h over, no sweep
    now = datetime(2026, 11, 20, 12, tzinfo=SH)
    [row] = rates.on_time_rates(Scope.everything(), month=date(2026, 11, 1), now=now)
    assert (row.counts.on_time, row.counts.late, row.counts.pending) == (0, 1, 0)
    assert rates.daily_series(Scope.everything(), month=date(2026, 11, 1), now=now)[-1][1] == Counts(0, 1, 0)
