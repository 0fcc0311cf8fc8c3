from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One thing that happened, written by a service in the same transaction as the change.

    Append-only: ``save()`` refuses an existing row, the queryset refuses bulk
    update/delete, and database triggers (migration 0002) refuse UPDATE on both
    backends and DELETE on PostgreSQL. ``verb`` is a stable code
    (``ticket.accepted``), never translated text; labels come from
    ``kefu.core.audit.verb_label`` at display time.
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    unit_code = models.CharField(_("单位"), max_length=40, blank=True)
    province_code = models.CharField(_("省份"), max_length=6, blank=True, db_index=True)
    verb = models.CharField(_("动作"), max_length=60, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=60)
    target_id = models.CharField(_("对象编号"), max_length=40)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "at"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb} {self.target_type}#{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are append-only")


class JobHeartbeat(models.Model):
    """Last successful run of each periodic job, so administrators see a late one."""

    name = models.CharField(_("任务"), max_length=60, unique=True)
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("最近开始"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    expected_every_seconds = models.PositiveIntegerField(_("预期间隔(秒)"), default=60)
    last_summary = models.JSONField(_("最近结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = _("后台任务心跳")

    def __str__(self) -> str:
        return self.name

    def is_late(self, now: Any) -> bool:
        if self.last_success_at is None:
            return True
        return (now - self.last_success_at).total_seconds() > 3 * self.expected_every_seconds


class JobLease(models.Model):
    """Who may run a periodic job right now: a lease that cannot outlive its holder.

    Huey's own ``lock_task`` keeps its key until the task returns, so a worker
    killed mid-run left the key behind for good and every later run skipped.
    A lease ends by itself: it expires after its time to live, and a holder on
    the same host whose process is gone loses it at once (``kefu.core.jobs``).
    """

    name = models.CharField(_("任务"), max_length=60, unique=True)
    holder = models.CharField(_("持有者"), max_length=200, blank=True)
    acquired_at = models.DateTimeField(_("取得时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务租约")
        verbose_name_plural = _("任务租约")

    def __str__(self) -> str:
        return f"{self.name} ({self.holder or '-'})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    RETRYING = "retrying", _("发送失败，等待重试")
    FAILED = "failed", _("发送失败(已停止重试)")
    CANCELLED = "cancelled", _("已取消")


class OutboxMail(models.Model):
    """The one outbox for every mail the product sends (``kefu.core.outbox``).

    A row is written in the same transaction as the business change that wants the
    mail, sent after commit (and by the ``core.outbox`` job for what is left), retried
    with back-off and finally ``failed``, where operators see it and may retry it.
    ``(purpose, key)`` is unique: asking twice for the same mail gives the same row, so
    nothing is mailed twice.
    """

    purpose = models.CharField(_("用途"), max_length=60)
    key = models.CharField(_("去重键"), max_length=200)
    ref = models.CharField(_("关联对象"), max_length=100, blank=True, db_index=True)
    to = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("正文"), blank=True)
    data = models.JSONField(_("参数"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    claimed_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("邮件")
        verbose_name_plural = _("邮件发件箱")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "key"], name="core_outbox_once"),
            models.CheckConstraint(
                name="core_outbox_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="core_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.key} → {', '.join(self.to)} ({self.get_status_display()})"

    @property
    def email(self) -> str:
        return ", ".join(self.to)

    def get_purpose_display(self) -> str:
        from .outbox import purpose_label

        return purpose_label(self.purpose)
