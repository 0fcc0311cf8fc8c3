"""Report mail against a real SMTP server (aiosmtpd) started by the test; attachments read back."""

import email
import email.policy
import io
import socket
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone

from kefu.core.models import AuditEvent
from kefu.org.models import Membership, Role, Team, Unit, User
from kefu.reports import services
from kefu.reports.models import MailStatus, OutboundMail, Recipient

from .factories import ticket

SH = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture
def october(db):
    ticket(slug="js", at=datetime(2026, 10, 3, tzinfo=SH), cat="cf_usage_login")
    ticket(slug="js", at=datetime(2026, 10, 4, tzinfo=SH), cat="cf_incident", kind="fault")
    ticket(slug="bj", at=datetime(2026, 10, 5, tzinfo=SH), cat="cf_usage_login")
    ticket(slug="js", at=datetime(2026, 10, 6, tzinfo=SH), kind="consultation", cat=None, kb=True)


def recipient(unit_code: str, email_addr: str, **kw) -> Recipient:
    return Recipient.objects.create(
        unit=Unit.objects.get(code=unit_code), name=email_addr.split("@")[0], email=email_addr, **kw
    )


def attachment_sheet(message):
    parts = [p for p in message.iter_attachments()]
    assert len(parts) == 1
    assert parts[0].get_filename().endswith(".xlsx")
    return openpyxl.load_workbook(io.BytesIO(parts[0].get_content()))["月报表"]


def rows_of(ws):
    return {
        (ws.cell(r, 2).value, ws.cell(r, 3).value): [ws.cell(r, c).value for c in range(4, ws.max_column + 1)]
        for r in range(5, ws.max_row + 1)
        if ws.cell(r, 4).value is not None
    }


def test_hq_gets_national_and_jiangsu_gets_its_own_once(smtp, october, settings):
    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn"
    recipient("hq_service", "hq@example.cn")
    recipient("branch_js", "js@example.cn")
    now = timezone.now()
    created, result = services.mail_month_now(actor=None, month=OCT, now=now)
    assert (created, result.sent, result.failed) == (2, 2, 0)
    by_rcpt = {tuple(r): m for r, m in smtp.messages}
    assert set(by_rcpt) == {("hq@example.cn",), ("js@example.cn",)}

    hq = attachment_sheet(by_rcpt[("hq@example.cn",)])
    assert [hq.cell(3, c).value for c in (4, 5, 6)] == ["全国", "北京", "天津"]
    assert hq.max_column == 3 + 32
    js_col = [hq.cell(3, c).value for c in range(1, hq.max_column + 1)].index("江苏") + 1
    assert hq.cell(3, js_col).value == "江苏"
    hq_rows = rows_of(hq)
    assert hq_rows[("使用类", "无法正常登录")][0] == 2  # 全国
    assert hq_rows[("合计", None)][0] == 3
    assert hq_rows[("合计", None)][js_col - 4] == 2

    js = attachment_sheet(by_rcpt[("js@example.cn",)])
    assert js.max_column == 4 and js.cell(3, 4).value == "江苏"
    assert "全国" not in [js.cell(3, c).value for c in range(1, 5)]
    js_rows = rows_of(js)
    assert js_rows[("使用类", "无法正常登录")] == [1]
    assert js_rows[("突发事件", None)] == [1]
    assert js_rows[("合计", None)] == [2]
    assert js_rows[(None, None)] == [1]  # 咨询 row (merged label in column A)
    assert "江苏" in by_rcpt[("js@example.cn",)]["Subject"]
    text = next(
        p.get_payload(decode=True).decode()
        for p in by_rcpt[("js@example.cn",)].walk()
        if p.get_content_type() == "text/plain"
    )
    assert "https://kefu.example.cn/reports/monthly/" in text
    assert "在线客服：" not in text  # October had no chats: the body says nothing of them

    # The job runs again (a retry of the periodic task, a second worker): nobody gets a second mail.
    created, result = services.mail_month_now(actor=None, month=OCT, now=now + timedelta(minutes=1))
    assert (created, result.sent) == (0, 0)
    call_command("reports_mail", "--month", "2026-10", stdout=io.StringIO())
    assert len(smtp.messages) == 2
    assert OutboundMail.objects.filter(status=MailStatus.SENT).count() == 2
    assert AuditEvent.objects.filter(verb="reports.mail_sent").count() == 2


def test_failed_send_is_retried_with_backoff_and_visible(settings, smtp, october):
    recipient("branch_js", "js@example.cn")
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there
    now = timezone.now()
    _created, result = services.mail_month_now(actor=None, month=OCT, now=now)
    assert (result.sent, result.failed) == (0, 1)
    mail = OutboundMail.objects.get()
    assert mail.status == MailStatus.RETRYING and mail.attempts == 1 and mail.last_error
    assert mail.next_attempt_at == now + timedelta(minutes=5)
    # Not due yet: nothing happens, even with the server back.
    settings.EMAIL_PORT = good_port
    assert services.mail_send_due(now=now + timedelta(minutes=4)).sent == 0
    assert services.mail_send_due(now=now + timedelta(minutes=5)).sent == 1
    mail.refresh_from_db()
    assert mail.status == MailStatus.SENT and mail.last_error == ""
    assert len(smtp.messages) == 1


def test_gives_up_after_max_attempts_then_admin_retry_sends(settings, smtp, october, admin_actor):
    recipient("branch_js", "js@example.cn")
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    now = timezone.now()
    services.mail_enqueue(actor=None, month=OCT, now=now)
    for _ in range(services.MAX_ATTEMPTS):
        services.mail_send_due(now=now)
        now += timedelta(hours=7)
    mail = OutboundMail.objects.get()
    assert mail.status == MailStatus.FAILED and mail.attempts == services.MAX_ATTEMPTS
    assert services.mail_send_due(now=now + timedelta(days=30)).sent == 0
    settings.EMAIL_PORT = good_port
    assert services.mail_retry(actor=admin_actor, mail_ids=None, now=now) == 1
    assert services.mail_send_due(now=now).sent == 1


def test_scope_is_checked_when_sending(smtp, october):
    """Enqueued for Jiangsu, but by send time the recipient belongs to Beijing: cancelled, not sent."""
    r = recipient("branch_js", "js@example.cn")
    now = timezone.now()
    services.mail_enqueue(actor=None, month=OCT, now=now)
    r.unit = Unit.objects.get(code="branch_bj")
    r.save()
    result = services.mail_send_due(now=now)
    assert (result.sent, result.cancelled) == (0, 1)
    assert OutboundMail.objects.get().status == MailStatus.CANCELLED
    assert smtp.messages == []


def test_a_recipient_tied_to_a_user_needs_that_user_to_still_see_the_report(smtp, october):
    user = User.objects.create_user("lead_js_mail", password="x" * 12, email="lead@example.cn")
    m = Membership.objects.create(user=user, team=Team.objects.get(code="desk_js"), role=Role.SUPERVISOR)
    recipient("branch_js", "lead@example.cn", user=user)
    now = timezone.now()
    services.mail_enqueue(actor=None, month=OCT, now=now)
    m.is_active = False
    m.save()
    assert services.mail_send_due(now=now).cancelled == 1
    assert smtp.messages == []


def test_recipients_seed_covers_hq_and_every_province(db):
    assert services.recipients_seed() == 32
    assert services.recipients_seed() == 0
    assert Recipient.objects.filter(unit__kind="province_branch").count() == 31


def test_backoff_doubles_and_is_capped():
    assert [services.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert services.backoff(20) == timedelta(hours=6)


def test_a_province_administrator_sees_only_its_own_mail_and_recipients_in_the_admin(
    client, october, make_actor
):
    """The outbox and the recipients name every province's addresses: a province administrator's admin pages
    list its own province's rows only, and another province's row is a 404 like a missing one."""
    from conftest import login_client

    bj = recipient("branch_bj", "bj-secret@example.cn")
    recipient("branch_js", "js@example.cn")
    recipient("hq_service", "hq-secret@example.cn")
    services.mail_enqueue(actor=None, month=date(2026, 10, 1), now=timezone.now())
    province_admin = make_actor("admin_js", "desk_js", Role.ADMIN)
    province_admin.user.is_staff = province_admin.user.is_superuser = True
    province_admin.user.save()
    login_client(client, province_admin)
    for url in ("/admin/reports/outboundmail/", "/admin/reports/recipient/"):
        page = client.get(url).content.decode()
        assert "js@example.cn" in page, url
        assert "bj-secret@example.cn" not in page and "hq-secret@example.cn" not in page, url
    bj_mail = OutboundMail.objects.get(recipient=bj)
    for path in (
        f"/admin/reports/outboundmail/{bj_mail.pk}/change/",
        f"/admin/reports/recipient/{bj.pk}/change/",
    ):
        assert client.get(path).status_code in (302, 404)
        assert "bj-secret" not in client.get(path, follow=True).content.decode()


def body_of(message) -> str:
    return next(
        p.get_payload(decode=True).decode() for p in message.walk() if p.get_content_type() == "text/plain"
    )


def test_the_mail_body_gives_the_online_services_month(smtp, october):
    from kefu.chat.models import Conversation

    Conversation.objects.create(
        team=Team.objects.get(code="online"),
        status="closed",
        visitor_name="访客",
        kb_answered=True,
        rating="satisfied",
        created_at=datetime(2026, 10, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    recipient("hq_service", "hq@example.cn")
    services.mail_month_now(actor=None, month=OCT, now=timezone.now())
    ((_rcpt, message),) = smtp.messages
    text = body_of(message)
    assert "在线客服：会话 1 个" in text and "满意率 100.0%" in text
