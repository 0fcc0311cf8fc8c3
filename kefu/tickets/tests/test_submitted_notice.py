"""#14 item 1: a complaint the hotline submits to the customer's province reaches that desk by a live
push to the desk's team and a mail to its leads, both after commit (第三条(三)3)."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail

from kefu.core.errors import Conflict
from kefu.core.models import OutboxMail
from kefu.org.models import Membership, Role, Team, User
from kefu.realtime.models import Event
from kefu.tickets import services
from kefu.tickets.mail import SUBMITTED, SUBMITTED_EVENT

from .factories import fresh, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_lead_bj():
    user = User.objects.create_user(
        username="lead_bj", password="correct-horse-42", display_name="北京班长", email="lead.bj@example.cn"
    )
    Membership.objects.create(user=user, team=Team.objects.get(code="desk_bj"), role=Role.SUPERVISOR)
    return user


def _resolved_at_hotline(hotline_agent):
    t = make_ticket(hotline_agent, slug="bj")
    services.ticket_resolve(
        actor=hotline_agent,
        ticket=t,
        resolution="已安抚并记录",
        reply_method="call_back",
        reply_content="已电话答复",
    )
    return fresh(t)


def test_the_desk_gets_a_push_and_its_leads_a_mail_after_commit(
    hotline_agent, desk_lead_bj, django_capture_on_commit_callbacks, settings
):
    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn"
    t = _resolved_at_hotline(hotline_agent)
    desk = Team.objects.get(code="desk_bj")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hop = services.ticket_submit_to_province(actor=hotline_agent, ticket=t, note="请北京跟进")
    assert django_mail.outbox == []  # nothing leaves before the commit
    push = Event.objects.get(group=f"team.{desk.pk}", event=SUBMITTED_EVENT)
    assert push.payload["number"] == t.number and push.payload["url"] == f"/tickets/{t.number}/"
    row = OutboxMail.objects.get(purpose=SUBMITTED, key=f"hop:{hop.pk}")
    assert row.to == ["lead.bj@example.cn"] and row.ref == f"ticket:{t.number}"
    for callback in callbacks:
        callback()
    sent = [m for m in django_mail.outbox if m.to == ["lead.bj@example.cn"]]
    assert len(sent) == 1 and t.number in sent[0].subject
    assert "请北京跟进" in sent[0].body and "已安抚并记录" in sent[0].body
    # A link that works in a mail reader.
    assert f"https://kefu.example.cn/tickets/{t.number}/" in sent[0].body
    row.refresh_from_db()
    assert row.status == "sent"


def test_without_a_lead_with_an_address_the_mail_goes_to_the_desk_mailbox(hotline_agent):
    desk = Team.objects.get(code="desk_bj")
    desk.email = "desk.bj@example.cn"
    desk.save()
    hop = services.ticket_submit_to_province(actor=hotline_agent, ticket=_resolved_at_hotline(hotline_agent))
    assert OutboxMail.objects.get(purpose=SUBMITTED, key=f"hop:{hop.pk}").to == ["desk.bj@example.cn"]


def test_a_refused_submission_pushes_and_mails_nothing(hotline_agent, desk_lead_bj):
    t = _resolved_at_hotline(hotline_agent)
    with pytest.raises(Conflict):
        services.ticket_submit_to_province(actor=hotline_agent, ticket=t, version=t.version - 1)
    assert not Event.objects.filter(event=SUBMITTED_EVENT).exists()
    assert not OutboxMail.objects.filter(purpose=SUBMITTED).exists()
    assert fresh(t).status == "resolved"
