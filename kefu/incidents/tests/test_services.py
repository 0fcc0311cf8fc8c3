from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.core.models import AuditEvent, OutboxMail
from kefu.tickets.tests.factories import category, make_ticket

from .. import selectors, services, workflow
from ..models import Bulletin, Incident, Link, Receipt, Update
from .conftest import declare

pytestmark = pytest.mark.django_db


def test_workflow_table_is_pinned():
    assert {
        ("investigating", "identified"),
        ("investigating", "monitoring"),
        ("investigating", "resolved"),
        ("identified", "monitoring"),
        ("identified", "resolved"),
        ("monitoring", "identified"),
        ("monitoring", "resolved"),
        ("resolved", "reviewed"),
    } == workflow.TRANSITIONS
    assert workflow.next_statuses("resolved") == ["reviewed"]
    assert workflow.next_statuses("reviewed") == []


def test_declare_notifies_hq_at_once_with_the_annex(
    hotline_lead, agent_js, hq_mailbox, django_capture_on_commit_callbacks, settings
):
    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn"
    now = timezone.now()
    make_ticket(agent_js, now=now - timedelta(minutes=10))  # a complaint in Jiangsu since the start
    make_ticket(agent_js, kind="consultation", topic="usage", now=now - timedelta(minutes=5))
    make_ticket(agent_js, now=now - timedelta(hours=2))  # before the start: not related
    with django_capture_on_commit_callbacks(execute=True):
        inc = declare(hotline_lead, now=now)
    assert inc.number.startswith("INC") and inc.status == "investigating"
    assert inc.hq_notified_at == now and inc.declared_at == now
    assert inc.annex["rows"] == [
        {"province": "江苏", "slug": "js", "complaint": 1, "fault": 0, "consultation": 1, "total": 2}
    ]
    assert [u.kind for u in inc.updates.order_by("pk")] == ["declared", "hq_notified"]
    sent = [m for m in django_mail.outbox if "hq-service@example.cn" in m.to]
    assert len(sent) == 1 and inc.number in sent[0].subject and "江苏\t1\t0\t1\t2" in sent[0].body
    assert f"https://kefu.example.cn/incidents/{inc.number}/" in sent[0].body
    inc.refresh_from_db()
    assert inc.hq_mail_sent_at is not None
    assert OutboxMail.objects.get(ref=f"incident:{inc.pk}").status == "sent"
    assert AuditEvent.objects.filter(verb="incident.declared", target_id=str(inc.pk)).count() == 1


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"province_slugs": ()}, "provinces"),
        ({"started_at": timezone.now() + timedelta(hours=1)}, "started_at"),
        ({"impact": "P9"}, "impact"),
        ({"title": "  "}, "title"),
        ({"province_slugs": ("zz",)}, "provinces"),
    ],
)
def test_declare_bad_input_is_refused_and_writes_nothing(hotline_lead, kw, field):
    with pytest.raises(ValidationFailed) as exc:
        declare(hotline_lead, **kw)
    assert exc.value.status == 422 and exc.value.fields[0]["field"] == field
    assert exc.value.message and exc.value.message_en
    assert Incident.objects.count() == 0 and OutboxMail.objects.count() == 0


def test_detected_before_start_is_refused(hotline_lead):
    now = timezone.now()
    with pytest.raises(ValidationFailed):
        declare(hotline_lead, started_at=now - timedelta(minutes=5), detected_at=now - timedelta(minutes=10))
    assert Incident.objects.count() == 0


def test_a_province_desk_cannot_declare(lead_js, agent_js):
    for actor in (lead_js, agent_js):
        with pytest.raises(Forbidden):
            declare(actor)
    assert Incident.objects.count() == 0


def test_all_provinces_needs_no_list(hq_reviewer):
    inc = declare(hq_reviewer, slugs=(), all_provinces=True)
    assert inc.all_provinces and inc.provinces.count() == 0


def test_status_workflow_and_resolution_text(hotline_lead):
    inc = declare(hotline_lead)
    with pytest.raises(Conflict):
        services.incident_set_status(actor=hotline_lead, incident=inc, status="reviewed")
    with pytest.raises(ValidationFailed):
        services.incident_set_status(actor=hotline_lead, incident=inc, status="resolved")
    assert Incident.objects.get(pk=inc.pk).status == "investigating"
    services.incident_set_status(actor=hotline_lead, incident=inc, status="identified", note="定位到存储故障")
    inc = services.incident_set_status(
        actor=hotline_lead, incident=inc, status="resolved", resolution_text="平台已恢复，请重新入会。"
    )
    assert inc.status == "resolved" and inc.resolved_at is not None
    kinds = list(inc.updates.filter(kind="status").values_list("status_from", "status_to"))
    assert kinds == [("investigating", "identified"), ("identified", "resolved")]


def test_hq_acknowledges_once(hotline_lead, hq_reviewer, agent_js):
    inc = declare(hotline_lead)
    with pytest.raises(Forbidden):
        services.incident_hq_acknowledge(actor=agent_js, incident=inc)
    inc = services.incident_hq_acknowledge(actor=hq_reviewer, incident=inc)
    seen = inc.hq_seen_at
    again = services.incident_hq_acknowledge(actor=hq_reviewer, incident=inc)
    assert again.hq_seen_at == seen
    assert Update.objects.filter(incident=inc, kind="hq_seen").count() == 1


def test_bulletin_goes_to_affected_desks_hotline_and_online(hotline_lead, hq_reviewer, agent_js, agent_bj):
    inc = declare(hotline_lead, slugs=("js", "sh"))
    with pytest.raises(Forbidden):
        services.bulletin_issue(actor=hotline_lead, incident=inc, customer_script="x", agent_guidance="y")
    b = services.bulletin_issue(
        actor=hq_reviewer,
        incident=inc,
        customer_script="平台故障正在抢修，预计一小时内恢复。",
        agent_guidance="登记为突发事件并关联到本事件。",
    )
    codes = sorted(Receipt.objects.unscoped("test").filter(bulletin=b).values_list("team__code", flat=True))
    assert codes == ["desk_js", "desk_sh", "hotline", "online"]
    r = services.receipt_acknowledge(actor=agent_js, bulletin=b)
    assert r.team.code == "desk_js" and r.acknowledged_at is not None
    # Beijing is not addressed: a clear 403 and nothing changes.
    before = list(Receipt.objects.unscoped("test").values_list("pk", "acknowledged_at"))
    with pytest.raises(Forbidden) as exc:
        services.receipt_acknowledge(actor=agent_bj, bulletin=b)
    assert exc.value.code == "not_addressed"
    assert list(Receipt.objects.unscoped("test").values_list("pk", "acknowledged_at")) == before
    # A changed bulletin needs a new acknowledgement; the old one is refused.
    b2 = services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="预计 30 分钟内恢复。", agent_guidance="同上。"
    )
    assert b2.version == 2 and not Bulletin.objects.get(pk=b.pk).is_current
    assert Receipt.objects.unscoped("test").get(bulletin=b2, team__code="desk_js").acknowledged_at is None
    with pytest.raises(Conflict):
        services.receipt_acknowledge(actor=agent_js, bulletin=b)
    with pytest.raises(Conflict):  # the same text again is not a change
        services.bulletin_issue(
            actor=hq_reviewer, incident=inc, customer_script="预计 30 分钟内恢复。", agent_guidance="同上。"
        )


def test_reminders_after_n_minutes_then_again(
    hotline_lead, hq_reviewer, agent_js, hq_mailbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    inc = declare(hotline_lead, now=now)
    b = services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="口径", agent_guidance="指引", now=now
    )
    after = timedelta(minutes=15)
    assert services.receipts_remind(now=now + timedelta(minutes=10), after=after) == 0
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.receipts_remind(now=now + timedelta(minutes=16), after=after) == 4
    assert [m.to for m in django_mail.outbox if "请确认" in m.subject] == [["desk-js@example.cn"]]
    assert services.receipts_remind(now=now + timedelta(minutes=20), after=after) == 0
    services.receipt_acknowledge(actor=agent_js, bulletin=b, now=now + timedelta(minutes=21))
    assert services.receipts_remind(now=now + timedelta(minutes=32), after=after) == 3
    js = Receipt.objects.unscoped("test").get(bulletin=b, team__code="desk_js")
    assert js.reminder_count == 1


def test_suggest_and_link_a_new_order(hotline_lead, agent_js, agent_bj):
    inc = declare(hotline_lead, slugs=("js",))
    t = make_ticket(agent_js)
    assert selectors.suggestions_for(t) == [inc]
    bj = make_ticket(agent_bj)
    assert selectors.suggestions_for(bj) == []
    link = services.link_create(actor=agent_js, incident=inc, ticket=t)
    assert link.province.slug == "js" and selectors.suggestions_for(t) == []
    assert services.link_create(actor=agent_js, incident=inc, ticket=t).pk == link.pk  # again: no change
    assert Link.objects.unscoped("test").count() == 1
    # An order of a province the incident does not affect: 422, nothing written.
    with pytest.raises(ValidationFailed):
        services.link_create(actor=agent_bj, incident=inc, ticket=bj)
    # Another province's order, by an agent who cannot see it: the 404 of a missing order.
    with pytest.raises(NotFound):
        services.link_create(actor=agent_bj, incident=inc, ticket=make_ticket(agent_js))
    assert Link.objects.unscoped("test").count() == 1


def test_no_link_to_a_closed_incident(hotline_lead, agent_js):
    inc = declare(hotline_lead, slugs=("js",))
    services.incident_set_status(
        actor=hotline_lead, incident=inc, status="resolved", resolution_text="已恢复"
    )
    t = make_ticket(agent_js)
    assert selectors.suggestions_for(t) == []
    with pytest.raises(Conflict) as exc:
        services.link_create(actor=agent_js, incident=inc, ticket=t)
    assert exc.value.code == "incident_closed" and Link.objects.unscoped("test").count() == 0


def test_categories_narrow_the_suggestions(hotline_lead, agent_js):
    declare(hotline_lead, slugs=("js",), category_codes=("cf_incident",))
    assert selectors.suggestions_for(make_ticket(agent_js)) == []  # filed as 无法正常登录
    t = make_ticket(agent_js, category=category("cf_incident"))
    assert len(selectors.suggestions_for(t)) == 1


def test_auto_link_rules(hotline_lead, agent_js):
    now = timezone.now()
    inc = declare(hotline_lead, slugs=("js",), auto_link=True, auto_link_keywords="入会 黑屏", now=now)
    a = make_ticket(agent_js, subject="会议无法入会", now=now + timedelta(minutes=1))
    make_ticket(agent_js, subject="账单有误", now=now + timedelta(minutes=1))
    assert services.autolink_run(now=now + timedelta(minutes=2)) == 1
    link = Link.objects.unscoped("test").get()
    assert link.ticket_id == a.pk and link.auto and link.incident_id == inc.pk
    assert services.autolink_run(now=now + timedelta(minutes=3)) == 0


def test_province_sees_only_incidents_affecting_it_and_its_own_links(
    hotline_lead, agent_js, agent_sh, agent_bj
):
    inc = declare(hotline_lead, slugs=("js", "sh"))
    services.link_create(actor=agent_js, incident=inc, ticket=make_ticket(agent_js))
    services.link_create(actor=agent_sh, incident=inc, ticket=make_ticket(agent_sh))
    assert list(selectors.visible(agent_bj.scope)) == []
    with pytest.raises(NotFound):
        selectors.incident_by_number(agent_bj.scope, inc.number)
    assert [link.province.slug for link in selectors.links(inc, agent_js.scope)] == ["js"]
    assert selectors.links(inc, hotline_lead.scope).count() == 2
    national = declare(hotline_lead, slugs=(), all_provinces=True, title="全国故障")
    assert national in list(selectors.visible(agent_bj.scope))


def test_public_notice_shows_the_customer_script_only_while_open(hotline_lead, hq_reviewer):
    inc = declare(hotline_lead)
    assert selectors.public_notices() == []
    services.bulletin_issue(
        actor=hq_reviewer, incident=inc, customer_script="平台抢修中", agent_guidance="内部指引"
    )
    notices = selectors.public_notices()
    assert [n["script"] for n in notices] == ["平台抢修中"] and "内部指引" not in str(notices)
    services.incident_set_status(
        actor=hotline_lead, incident=inc, status="resolved", resolution_text="已恢复"
    )
    assert selectors.public_notices() == []


def test_province_of_desk_receipt_is_scoped(hotline_lead, hq_reviewer, agent_js):
    inc = declare(hotline_lead, slugs=("js", "sh"))
    b = services.bulletin_issue(actor=hq_reviewer, incident=inc, customer_script="a", agent_guidance="b")
    assert [r.team.code for r in selectors.receipts(b, agent_js.scope)] == ["desk_js"]
    assert selectors.receipts(b, hq_reviewer.scope).count() == 4
