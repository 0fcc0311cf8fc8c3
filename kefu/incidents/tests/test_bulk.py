from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.core.errors import Conflict
from kefu.core.models import AuditEvent
from kefu.org.models import Team
from kefu.sla.models import Clock
from kefu.tickets import services as tickets
from kefu.tickets.models import CustomerReply
from kefu.tickets.tests.factories import fresh, make_ticket

from .. import articles, bulk, review, services
from ..models import Link
from .conftest import declare

pytestmark = pytest.mark.django_db


def _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now):
    inc = declare(hotline_lead, slugs=("js", "sh"), now=now)
    ok = [
        make_ticket(agent_js, now=now + timedelta(minutes=1)),
        make_ticket(agent_sh, now=now + timedelta(minutes=2)),
        make_ticket(agent_js, kind="consultation", topic="usage", now=now + timedelta(minutes=3)),
    ]
    stuck = make_ticket(agent_js, now=now + timedelta(minutes=4))
    tickets.ticket_dispatch(
        actor=agent_js,
        ticket=stuck,
        to_team=Team.objects.get(code="hotline"),
        reason_code="complaint_assist",
        now=now + timedelta(minutes=5),
    )
    done_before = make_ticket(agent_sh, now=now + timedelta(minutes=4))
    tickets.ticket_resolve(
        actor=agent_sh,
        ticket=done_before,
        resolution="已处理",
        reply_content="已答复",
        now=now + timedelta(minutes=6),
    )
    for t in [*ok, stuck, done_before]:
        services.link_create(
            actor=agent_js if t.province.slug == "js" else agent_sh,
            incident=inc,
            ticket=t,
            now=now + timedelta(minutes=7),
        )
    services.incident_set_status(
        actor=hotline_lead,
        incident=inc,
        status="resolved",
        resolution_text="平台已于 10:40 恢复，请重新入会。",
        now=now + timedelta(minutes=30),
    )
    return inc, ok, stuck, done_before


def test_bulk_reply_and_resolution_each_order_its_own(hotline_lead, agent_js, agent_sh, hotline_agent):
    now = timezone.now() - timedelta(hours=1)
    inc, ok, stuck, done_before = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    rep = bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=40))
    assert (rep.done, rep.already, len(rep.failed)) == (3, 1, 1)
    assert rep.failed[0]["ticket"] == str(stuck.pk) and rep.failed[0]["error"]
    for t in ok:
        t = fresh(t)
        assert t.status == "resolved" and "平台已于 10:40 恢复" in t.resolution
        reply = CustomerReply.objects.unscoped("test").get(ticket=t)
        assert reply.content == "平台已于 10:40 恢复，请重新入会。" and reply.method == "sms"
        # The order's own reply and event name the system account acting for the holding team.
        assert reply.author.username == "incident_bulk" and reply.team_id == t.holder_team_id
        (event,) = AuditEvent.objects.filter(verb="ticket.resolved", target_id=str(t.pk))
        assert event.actor.username == "incident_bulk" and event.actor_label == "平台突发事件(系统)"
        assert event.unit_code == t.holder_team.unit.code
        clocks = Clock.objects.unscoped("test").filter(
            owner_type="tickets.ticket", owner_id=t.pk, kind="resolve"
        )
        assert [(c.status, c.outcome) for c in clocks] == (
            [("stopped", "met")] if t.kind == "complaint" else []
        )
    links = {link.ticket_id: link for link in Link.objects.unscoped("test").filter(incident=inc)}
    assert links[ok[0].pk].bulk_outcome == "done" and links[ok[0].pk].sla_outcome == "met"
    assert links[done_before.pk].bulk_outcome == "already"
    assert links[stuck.pk].bulk_outcome == "failed" and fresh(stuck).status == "awaiting_acceptance"
    assert CustomerReply.objects.unscoped("test").filter(ticket=stuck).count() == 0


def test_bulk_acts_as_a_real_system_account_and_audit_names_who_triggered_it(
    hotline_lead, agent_js, agent_sh, hotline_agent
):
    from kefu.org.access import actor_for
    from kefu.org.models import Membership

    now = timezone.now() - timedelta(hours=1)
    inc, ok, stuck, _ = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=40))
    system = bulk.system_user()
    # A persisted account that can never sign in, with real memberships in the holding teams only.
    assert system.pk and not system.is_active and not system.has_usable_password()
    assert actor_for(system).seats == ()
    held = {t.holder_team.code for t in ok}
    assert set(Membership.objects.filter(user=system).values_list("team__code", flat=True)) == held
    grants = AuditEvent.objects.filter(verb="incident.system_seat_granted", target_id=str(inc.pk))
    assert {e.data["team"] for e in grants} == held and {e.actor_id for e in grants} == {hotline_lead.user.pk}
    (run,) = AuditEvent.objects.filter(verb="incident.bulk_resolved", target_id=str(inc.pk))
    assert run.actor_id == hotline_lead.user.pk and run.data["acting_as"] == "incident_bulk"
    assert (run.data["done"], run.data["already"], run.data["failed"]) == (3, 1, 1)
    assert set(Link.objects.unscoped("test").filter(incident=inc).values_list("bulk_by", flat=True)) == {
        hotline_lead.user.pk
    }
    # A second incident reuses the memberships: no new grant.
    inc2 = declare(hotline_lead, slugs=("js",), now=now, title="第二个事件")
    t = make_ticket(agent_js, now=now + timedelta(minutes=1))
    services.link_create(actor=agent_js, incident=inc2, ticket=t, now=now + timedelta(minutes=2))
    services.incident_set_status(
        actor=hotline_lead, incident=inc2, status="resolved", resolution_text="已恢复"
    )
    assert bulk.bulk_resolve(actor=hotline_lead, incident=inc2).done == 1
    assert not AuditEvent.objects.filter(verb="incident.system_seat_granted", target_id=str(inc2.pk)).exists()


def test_bulk_in_chunks_a_failure_leaves_the_rest_of_its_chunk_done(
    hotline_lead, agent_js, agent_sh, hotline_agent, monkeypatch
):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    now = timezone.now() - timedelta(hours=1)
    inc, ok, stuck, done_before = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    rep = bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=40))
    assert (rep.done, rep.already, [f["ticket"] for f in rep.failed]) == (3, 1, [str(stuck.pk)])
    assert all(fresh(t).status == "resolved" for t in ok)
    outcomes = dict(
        Link.objects.unscoped("test").filter(incident=inc).values_list("ticket_id", "bulk_outcome")
    )
    assert outcomes == {
        ok[0].pk: "done",
        ok[1].pk: "done",
        ok[2].pk: "done",
        stuck.pk: "failed",
        done_before.pk: "already",
    }
    assert CustomerReply.objects.unscoped("test").filter(ticket=stuck).count() == 0


def test_bulk_queries_per_order_stay_flat(hotline_lead, agent_js, django_assert_max_num_queries):
    """The incidents side costs a few queries per chunk, not per order (the rest is ticket_resolve's own)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(n: int) -> int:
        now = timezone.now() - timedelta(hours=1)
        inc = declare(hotline_lead, slugs=("js",), now=now, title=f"查询计数{n}")
        for i in range(n):
            t = make_ticket(agent_js, now=now + timedelta(minutes=1, seconds=i))
            services.link_create(actor=agent_js, incident=inc, ticket=t, now=now + timedelta(minutes=2))
        services.incident_set_status(
            actor=hotline_lead, incident=inc, status="resolved", resolution_text="已恢复"
        )
        with CaptureQueriesContext(connection) as q:
            assert (
                bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=40)).done == n
            )
        return len(q.captured_queries)

    run(1)  # grants the membership once
    few, many = run(2), run(6)
    per_order = (many - few) / 4
    # 17 on SQLite when written, all ticket_resolve's own (its savepoint included); incidents adds none.
    assert per_order <= 17, per_order


def test_bulk_run_twice_changes_nothing(hotline_lead, agent_js, agent_sh, hotline_agent):
    now = timezone.now() - timedelta(hours=1)
    inc, ok, stuck, _ = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=40))
    # The stuck order is returned by the hotline and can then be resolved by the second run; the rest is untouched.
    tickets.ticket_return(
        actor=hotline_agent, ticket=stuck, reason="not_ours", now=now + timedelta(minutes=41)
    )
    replies = CustomerReply.objects.unscoped("test").count()
    rep = bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=42))
    assert (rep.done, rep.already, rep.failed) == (1, 0, [])
    assert CustomerReply.objects.unscoped("test").count() == replies + 1
    events = AuditEvent.objects.count()
    replies = CustomerReply.objects.unscoped("test").count()
    with pytest.raises(Conflict) as exc:
        bulk.bulk_resolve(actor=hotline_lead, incident=inc, now=now + timedelta(minutes=43))
    assert exc.value.code == "bulk_done"
    assert AuditEvent.objects.count() == events and CustomerReply.objects.unscoped("test").count() == replies


def test_bulk_needs_a_resolved_incident(hotline_lead, agent_js):
    inc = declare(hotline_lead, slugs=("js",))
    services.link_create(actor=agent_js, incident=inc, ticket=make_ticket(agent_js))
    with pytest.raises(Conflict):
        bulk.bulk_resolve(actor=hotline_lead, incident=inc)
    assert Link.objects.unscoped("test").get().bulk_outcome == ""


def test_urgent_article_through_the_knowledge_path(hotline_lead, kb_author):
    from kefu.knowledge.models import Revision

    inc = declare(hotline_lead)
    rev = articles.urgent_article_create(
        actor=kb_author,
        incident=inc,
        title="平台故障期间如何入会",
        question="会议无法入会怎么办",
        answer_agent="按通报指引处理",
        answer_customer="平台抢修中，请稍后重试",
    )
    rev = Revision.objects.get(pk=rev.pk)
    assert rev.status == "submitted" and rev.urgent and inc.number in rev.urgent_reason
    assert rev.late_submission  # released today: inside the week, allowed only because urgent
    inc.refresh_from_db()
    assert inc.urgent_article_id == rev.article_id
    with pytest.raises(Conflict):
        articles.urgent_article_create(
            actor=kb_author, incident=inc, title="x", question="x", answer_agent="x", answer_customer="x"
        )


def test_review_figures_and_excel(hotline_lead, hq_reviewer, agent_js, agent_sh, hotline_agent):
    import io

    import openpyxl

    now = timezone.now() - timedelta(hours=1)
    inc = declare(hotline_lead, slugs=("js", "sh"), now=now)
    b = services.bulletin_issue(
        actor=hq_reviewer,
        incident=inc,
        customer_script="口径",
        agent_guidance="指引",
        now=now + timedelta(minutes=6),
    )
    services.receipt_acknowledge(actor=agent_js, bulletin=b, now=now + timedelta(minutes=9))
    inc2, *_ = inc, None
    for actor in (agent_js, agent_js, agent_sh):
        services.link_create(
            actor=actor,
            incident=inc,
            ticket=make_ticket(actor, now=now + timedelta(minutes=2)),
            now=now + timedelta(minutes=3),
        )
    rep = review.build(inc2, hq_reviewer.scope)
    assert rep.to_notify_min == 0.0 and rep.to_relay_min == 6.0 and rep.total == 3
    assert rep.per_province == {"江苏": 2, "上海": 1} and rep.provinces == ["上海", "江苏"]
    js = next(a for a in rep.acks if a["province"] == "江苏")
    assert js["minutes"] == 3.0
    assert rep.sla == {"running": 3}
    # A province sees its own figures only.
    mine = review.build(inc, agent_js.scope)
    assert mine.per_province == {"江苏": 2} and [a["province"] for a in mine.acks] == ["江苏"]
    book = openpyxl.load_workbook(io.BytesIO(review.to_xlsx(rep)))
    assert book.sheetnames == ["概况", "时间线", "分省分时工单", "通报确认", "会话与通话", "时限影响"]
    assert book["概况"]["B1"].value == inc.number


def test_many_orders_go_to_the_background_with_the_same_checks(
    hotline_lead, agent_js, agent_sh, hotline_agent, monkeypatch, django_capture_on_commit_callbacks
):
    """Huey runs tasks immediately under test: the hand-over, then the run itself, as the manager."""
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 2)
    now = timezone.now() - timedelta(hours=1)
    inc, ok, stuck, done_before = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    with django_capture_on_commit_callbacks(execute=True):
        queued = bulk.bulk_request(actor=hotline_lead, incident=inc)
    assert queued == 5
    assert all(fresh(t).status == "resolved" for t in ok)
    (started,) = AuditEvent.objects.filter(verb="incident.bulk_started", target_id=str(inc.pk))
    assert started.actor_id == hotline_lead.user.pk and started.data["orders"] == 5
    (run,) = AuditEvent.objects.filter(verb="incident.bulk_resolved", target_id=str(inc.pk))
    assert run.actor_id == hotline_lead.user.pk and run.data["done"] == 3
    # What is left (the one failed order) is few enough to retry at once: a report, not a hand-over.
    again = bulk.bulk_request(actor=hotline_lead, incident=inc)
    assert isinstance(again, bulk.BulkReport)
    assert (again.done, again.already, [f["ticket"] for f in again.failed]) == (0, 0, [str(stuck.pk)])


def test_the_page_hands_many_orders_to_the_background(
    client, hotline_lead, agent_js, agent_sh, hotline_agent, monkeypatch, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    monkeypatch.setattr(bulk, "INLINE_LIMIT", 2)
    now = timezone.now() - timedelta(hours=1)
    inc, ok, *_ = _resolved_incident(hotline_lead, agent_js, agent_sh, hotline_agent, now)
    client.force_login(hotline_lead.user)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("incidents:bulk", args=[inc.number]), {"method": "sms"})
    assert resp.status_code == 302
    assert "已转入后台批量答复办结" in client.get(resp["Location"]).content.decode()
    assert all(fresh(t).status == "resolved" for t in ok)
