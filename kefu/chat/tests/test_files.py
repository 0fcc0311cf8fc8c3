"""Images and files in chat (the work-order attachment rules), the transcript kept at close and put on
the order, and left messages that become orders by themselves."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.chat import files, services
from kefu.chat.models import Attachment, Conversation, Message
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.org.models import Province, Team
from kefu.tickets.models import Attachment as TicketAttachment
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def start_and_accept(agent, **kw):
    kw.setdefault("name", "王先生")
    c, raw = services.conversation_start(**kw)
    services.conversation_accept(actor=agent, conversation_id=c.pk)
    c.refresh_from_db()
    return c, raw


def upload(client: Client, conversation: int, name: str, content: bytes, cid: str = "f1", **headers):
    return client.post(
        "/chat/files/",
        {"conversation": str(conversation), "client_id": cid, "file": SimpleUploadedFile(name, content)},
        **headers,
    )


def test_visitor_sends_an_image_the_agent_sees_it_and_a_resend_is_stored_once(on_duty):
    c, raw = start_and_accept(on_duty)
    visitor = Client()
    r = upload(visitor, c.pk, "截图.png", PNG, HTTP_X_KEFU_TOKEN=raw)
    assert r.status_code == 200, r.content
    data = r.json()["data"]
    assert data["file"]["image"] is True and data["file"]["name"] == "截图.png"
    again = upload(visitor, c.pk, "截图.png", PNG, HTTP_X_KEFU_TOKEN=raw)
    assert again.json()["data"]["seq"] == data["seq"]
    assert Attachment.objects.filter(conversation=c).count() == 1
    m = Message.objects.get(conversation=c, seq=data["seq"])
    assert m.kind == "file" and m.sender == "visitor" and m.data["file"]["id"] == data["file"]["id"]
    # the agent of the team opens it (inline for the thumbnail), the visitor with the token header
    agent = Client()
    agent.force_login(on_duty.user)
    got = agent.get(f"/chat/files/{data['file']['id']}/?inline=1")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert got["Content-Type"] == "image/png" and "attachment" not in got.get("Content-Disposition", "")
    assert got["X-Content-Type-Options"] == "nosniff"
    mine = visitor.get(f"/chat/visitor-files/{data['file']['id']}/", HTTP_X_KEFU_TOKEN=raw)
    assert mine.status_code == 200 and "attachment" in mine["Content-Disposition"]


def test_files_follow_the_work_order_rules_and_refusals_store_nothing(on_duty):
    c, raw = start_and_accept(on_duty)
    visitor = Client()
    cases = [
        ("page.html", b"<html><script>alert(1)</script>", "file_type"),
        ("fake.png", b"<html>not a png</html>", "file_mismatch"),
        ("notes.txt", b"\xef\xbb\xbf<svg onload=alert(1)>", "file_markup"),
        ("empty.pdf", b"", "file_empty"),
        ("big.txt", b"a" * (files.MAX_BYTES + 1), "file_too_large"),
    ]
    for name, content, code in cases:
        r = upload(visitor, c.pk, name, content, cid=name, HTTP_X_KEFU_TOKEN=raw)
        assert r.status_code == 422 and r.json()["code"] == code, (name, r.content)
        assert [(f["field"], f["type"]) for f in r.json()["details"]["fields"]] == [("file", code)]
        assert r.json()["message"] and r.json()["message_en"]
    assert not Attachment.objects.exists()
    assert Message.objects.filter(conversation=c, kind="file").count() == 0


def test_an_agent_sends_a_file_only_on_a_conversation_they_hold(on_duty, make_actor):
    c, raw = start_and_accept(on_duty)
    other = make_actor("online_agent2", "online", "agent")
    with pytest.raises(Conflict) as e:
        services.agent_file_send(
            actor=other, conversation_id=c.pk, upload=files.Upload("a.pdf", b"%PDF-1.4 x"), client_id="x"
        )
    assert e.value.code == "not_holder"
    agent = Client(enforce_csrf_checks=True)
    agent.force_login(on_duty.user)
    refused = upload(agent, c.pk, "手册.pdf", b"%PDF-1.4 hello")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"
    agent.get("/chat/console/")
    token = agent.cookies["csrftoken"].value
    r = upload(agent, c.pk, "手册.pdf", b"%PDF-1.4 hello", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200, r.content
    m = Message.objects.get(conversation=c, seq=r.json()["data"]["seq"])
    assert m.sender == "agent" and m.author == on_duty.user and m.data["file"]["image"] is False
    # the visitor downloads the agent's file; a PDF is never shown inline
    got = Client().get(f"/chat/visitor-files/{m.data['file']['id']}/?inline=1", HTTP_X_KEFU_TOKEN=raw)
    assert got.status_code == 200 and "attachment" in got["Content-Disposition"]


def test_downloads_are_scoped_to_the_conversation_and_team(on_duty, agent_sh, agent_bj):
    c, raw = start_and_accept(on_duty)
    m = services.visitor_send(
        groups=frozenset({c.group}), token_id=c.token_id, conversation_id=c.pk, text="截图如下", client_id="t"
    )
    assert m.seq
    a = services.visitor_file_send(
        groups=frozenset({c.group}),
        token_id=c.token_id,
        conversation_id=c.pk,
        upload=files.Upload("x.png", PNG),
        client_id="p",
    )
    file_id = a.data["file"]["id"]
    c2, raw2 = services.conversation_start(name="另一位访客")
    # another visitor's token, a desk agent of another team: the 404 of a missing file
    other_visitor = Client().get(f"/chat/visitor-files/{file_id}/", HTTP_X_KEFU_TOKEN=raw2)
    missing = Client().get("/chat/visitor-files/987654321/", HTTP_X_KEFU_TOKEN=raw2)
    assert other_visitor.status_code == 404 and other_visitor.content == missing.content
    with pytest.raises(NotFound):
        services.file_for_agent(agent_sh, file_id)
    # transferred to the Shanghai desk: Shanghai sees it, Beijing still does not, online no longer does
    desk_sh = Team.objects.get(pk=agent_sh.seats[0].team_id)
    services.conversation_transfer(
        actor=on_duty, conversation_id=c.pk, reason="complaint_to_province", to_team_id=desk_sh.pk
    )
    assert services.file_for_agent(agent_sh, file_id).pk == file_id
    with pytest.raises(NotFound):
        services.file_for_agent(agent_bj, file_id)
    with pytest.raises(NotFound):
        services.file_for_agent(on_duty, file_id)
    # no token: nothing
    assert Client().get(f"/chat/visitor-files/{file_id}/").status_code == 404
    assert c2.pk


def test_a_closed_conversation_takes_no_files_and_keeps_its_transcript(on_duty):
    c, raw = start_and_accept(on_duty)
    services.visitor_send(
        groups=frozenset({c.group}),
        token_id=c.token_id,
        conversation_id=c.pk,
        text="如何共享屏幕？",
        client_id="q",
    )
    services.conversation_close(actor=on_duty, conversation_id=c.pk)
    transcript = Attachment.objects.get(conversation=c, is_transcript=True)
    text = files.read_bytes(transcript).decode()
    assert "如何共享屏幕？" in text and "王先生" in text and transcript.content_type.startswith("text/plain")
    with pytest.raises(Conflict):
        services.visitor_file_send(
            groups=frozenset({c.group}),
            token_id=c.token_id,
            conversation_id=c.pk,
            upload=files.Upload("x.png", PNG),
            client_id="late",
        )
    # the transcript is the agents' record: the visitor cannot fetch it
    with pytest.raises(NotFound):
        services.file_for_visitor(frozenset({c.group}), transcript.pk)
    assert services.file_for_agent(on_duty, transcript.pk) == transcript


def _customer(phone: str = "13900139000", name: str = "上海某局") -> tuple[Customer, Contact]:
    sh = Province.objects.get(slug="sh")
    cust = Customer.objects.create(name=name, account_number=f"SH-{phone}", province=sh)
    contact = Contact.objects.create(customer=cust, name="赵六")
    ContactPhone.objects.create(contact=contact, number=phone)
    return cust, contact


def test_the_order_from_a_conversation_carries_the_transcript_and_the_files(on_duty):
    cust, contact = _customer("13800138001")
    c, raw = start_and_accept(on_duty, phone="13800138001", text="会议画面卡顿")
    services.visitor_file_send(
        groups=frozenset({c.group}),
        token_id=c.token_id,
        conversation_id=c.pk,
        upload=files.Upload("卡顿截图.png", PNG),
        client_id="p",
    )
    t = services.conversation_to_ticket(
        actor=on_duty, conversation_id=c.pk, kind="fault", subject="会议画面卡顿", category="cf_usage_login"
    )
    names = sorted(
        TicketAttachment.objects.unscoped("test").filter(ticket=t).values_list("original_name", flat=True)
    )
    assert names == sorted([f"在线会话{c.pk}记录.txt", "卡顿截图.png"])
    record = TicketAttachment.objects.unscoped("test").get(ticket=t, original_name=f"在线会话{c.pk}记录.txt")
    assert record.content_type.startswith("text/plain") and record.size > 0
    assert t.customer == cust and t.contact == contact


def test_a_left_message_becomes_an_order_once(online_agent, django_capture_on_commit_callbacks):
    cust, contact = _customer()
    with django_capture_on_commit_callbacks(execute=True):
        c = services.message_leave(
            name="赵六", unit="上海某局", phone="139 0013 9000", kind="fault", text="终端无法开机"
        )
    c.refresh_from_db()
    t = c.ticket
    assert t is not None and t.kind == "fault" and t.customer == cust and t.contact == contact
    assert t.channel == "online" and t.first_contact_agent == online_agent.user
    assert t.category.code == services.LEFT_FAULT_CATEGORY and "终端无法开机" in t.description
    assert t.caller_phone == "13900139000"
    assert TicketAttachment.objects.unscoped("test").filter(ticket=t).count() == 1  # the transcript
    # once: the hook again, the sweep, a second call all return the same order
    assert services.left_message_to_ticket(conversation_id=c.pk) == t
    assert services.left_messages_sweep() == 0
    assert Ticket.objects.unscoped("test").count() == 1
    assert services.waiting_and_mine(online_agent)["left"] == []


def test_a_left_message_without_a_known_customer_becomes_an_order_of_its_phones_province(
    online_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        c = services.message_leave(
            name="陌生人", unit="不存在的单位", phone="13700137000", kind="consultation", text="如何开通？"
        )
    c.refresh_from_db()
    t = c.ticket
    ln = Province.objects.get(slug="ln")  # 137 0013 is a 辽宁 number
    assert t is not None and t.kind == "consultation" and t.channel == "online" and t.contact is None
    assert (t.customer.name, t.customer.province, t.province) == (services.UNMATCHED_NAME, ln, ln)
    assert t.caller_phone == "13700137000"
    assert t.description.startswith("访客：陌生人；单位：不存在的单位；电话：13700137000")
    assert "如何开通？" in t.description
    assert services.waiting_and_mine(online_agent)["left"] == []
    # a second unknown visitor of the same province gets the same account, made (and audited) once
    with django_capture_on_commit_callbacks(execute=True):
        c2 = services.message_leave(name="路人", phone="13700137001", kind="fault", text="终端黑屏")
    c2.refresh_from_db()
    assert c2.ticket is not None and c2.ticket.customer == t.customer
    assert c2.ticket.category.code == services.LEFT_FAULT_CATEGORY
    assert Customer.objects.unscoped("test").filter(name=services.UNMATCHED_NAME).count() == 1
    assert AuditEvent.objects.filter(verb="chat.unmatched_customer_created").count() == 1
    assert services.left_messages_sweep() == 0


def test_a_left_message_whose_number_tells_no_province_waits_for_an_agent(
    online_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        c = services.message_leave(
            name="陌生人", unit="不存在的单位", phone="19912345678", kind="consultation", text="如何开通？"
        )
    c.refresh_from_db()
    assert c.ticket is None and Ticket.objects.unscoped("test").count() == 0
    assert not Customer.objects.unscoped("test").filter(name=services.UNMATCHED_NAME).exists()
    assert [q.pk for q in services.waiting_and_mine(online_agent)["left"]] == [c.pk]
    # the customer is added later (the unit's exact name): the sweep makes the order, once
    sh = Province.objects.get(slug="sh")
    Customer.objects.create(name="不存在的单位", account_number="SH-new", province=sh)
    assert services.left_messages_sweep() == 1
    assert services.left_messages_sweep() == 0
    c.refresh_from_db()
    assert c.ticket is not None and c.ticket.kind == "consultation" and c.ticket.contact is None
    assert c.ticket.customer.account_number == "SH-new"
    assert Conversation.objects.get(pk=c.pk).status == "left"


def test_no_agent_to_record_the_order_leaves_it_for_later(always_open, django_capture_on_commit_callbacks):
    _customer()
    with django_capture_on_commit_callbacks(execute=True):
        c = services.message_leave(name="赵六", phone="13900139000", kind="consultation", text="咨询")
    c.refresh_from_db()
    assert c.ticket is None  # the online team has nobody who may record orders yet
    with pytest.raises(ValidationFailed):
        services.message_leave(name="赵六", phone="13900139000", kind="complaint", text="x")
