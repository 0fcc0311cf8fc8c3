"""The one outbox: written with the business change, sent after commit, retried, failed, retried by a service."""

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.db import transaction
from django.utils import timezone

from kefu.core import outbox
from kefu.core.models import AuditEvent, OutboxMail, OutboxStatus

pytestmark = pytest.mark.django_db

outbox.register("test.plain", "测试")


class Boom(Exception):
    pass


@pytest.fixture
def broken_smtp(monkeypatch):
    state = {"broken": True}
    original = django_mail.EmailMessage.send

    def send(self, fail_silently=False):
        if state["broken"]:
            raise Boom("smtp down")
        return original(self, fail_silently=fail_silently)

    monkeypatch.setattr(django_mail.EmailMessage, "send", send)
    return state


def test_sent_after_commit_once_per_key(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row, created = outbox.enqueue(
            purpose="test.plain", key="k1", to=["a@example.cn"], subject="主题", body="正文"
        )
        again, created_again = outbox.enqueue(
            purpose="test.plain", key="k1", to=["b@example.cn"], subject="x"
        )
    assert created and not created_again and again.pk == row.pk
    assert [m.to for m in django_mail.outbox] == [["a@example.cn"]]
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1
    # The periodic job finds nothing more to send.
    assert outbox.send_due(now=timezone.now() + timedelta(days=1)).sent == 0
    assert len(django_mail.outbox) == 1


def test_rolled_back_change_leaves_no_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(purpose="test.plain", key="k2", to=["a@example.cn"], subject="s", body="b")
        raise RuntimeError("the business change failed")
    assert OutboxMail.objects.count() == 0 and django_mail.outbox == []


def test_retries_with_backoff_then_fails_then_retry_service_sends(broken_smtp, admin_user):
    now = timezone.now()
    row, _ = outbox.enqueue(
        purpose="test.plain",
        key="k3",
        to=["a@example.cn"],
        subject="s",
        body="b",
        now=now,
        send_after_commit=False,
    )
    result = outbox.send_due(now=now)
    assert (result.sent, result.failed, result.gave_up) == (0, 1, 0)
    row.refresh_from_db()
    assert row.status == OutboxStatus.RETRYING and row.attempts == 1 and "smtp down" in row.last_error
    assert row.next_attempt_at == now + timedelta(minutes=5)
    assert outbox.send_due(now=now + timedelta(minutes=4)).failed == 0  # not due yet
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        now += timedelta(hours=7)
        outbox.send_due(now=now)
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    assert AuditEvent.objects.filter(verb="outbox.failed", target_id=str(row.pk)).count() == 1
    assert outbox.send_due(now=now + timedelta(days=30)).failed == 0  # given up: the job leaves it

    broken_smtp["broken"] = False
    assert outbox.retry(actor=admin_user, ids=[row.pk], now=now) == 1
    assert (
        AuditEvent.objects.filter(verb="outbox.retry", target_id=str(row.pk), actor=admin_user).count() == 1
    )
    assert outbox.send_due(now=now).sent == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and len(django_mail.outbox) == 1
    assert outbox.retry(actor=admin_user, ids=[row.pk], now=now) == 0  # a sent mail is never put back


def test_a_claimed_row_is_not_sent_by_a_second_worker():
    now = timezone.now()
    row, _ = outbox.enqueue(
        purpose="test.plain",
        key="k4",
        to=["a@example.cn"],
        subject="s",
        body="b",
        now=now,
        send_after_commit=False,
    )
    assert outbox._claim(row.pk, now)  # worker A holds it
    assert outbox.send_due(now=now).skipped == 0 and django_mail.outbox == []  # B does not even see it as due
    # A dies: after STALE_CLAIM the row comes back once.
    assert outbox.send_due(now=now + outbox.STALE_CLAIM + timedelta(seconds=1)).sent == 1
    assert len(django_mail.outbox) == 1


def test_render_hook_builds_at_send_time_and_can_cancel():
    seen = []

    def render(row, cache):
        if row.data.get("cancel"):
            raise outbox.Cancel("不再需要 / not needed")
        return outbox.Message("生成的主题", "生成的正文", ["r@example.cn"], [("a.txt", b"x", "text/plain")])

    outbox.register("test.render", "测试", render=render, on_status=lambda row: seen.append(row.status))
    outbox.enqueue(purpose="test.render", key="a", send_after_commit=False)
    outbox.enqueue(purpose="test.render", key="b", data={"cancel": True}, send_after_commit=False)
    result = outbox.send_due()
    assert (result.sent, result.cancelled) == (1, 1)
    assert sorted(seen) == ["cancelled", "sent"]
    (m,) = django_mail.outbox
    assert m.subject == "生成的主题" and m.to == ["r@example.cn"] and m.attachments[0][0] == "a.txt"
    assert OutboxMail.objects.get(key="a").to == ["r@example.cn"]


def test_the_periodic_job_sends_what_is_due():
    from kefu.core.models import JobHeartbeat
    from kefu.core.tasks import core_outbox

    outbox.enqueue(
        purpose="test.plain", key="job", to=["a@example.cn"], subject="s", body="b", send_after_commit=False
    )
    result = core_outbox.call_local()
    assert result["sent"] == 1 and len(django_mail.outbox) == 1
    assert JobHeartbeat.objects.get(name="core.outbox").last_success_at is not None
