"""Kept figures (rollups), their checkpoint, and the report mail: recipients and the outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager


class MonthlyCount(models.Model):
    """Work orders of one month, province, category, kind, channel and knowledge-base flag.

    Rebuilt per (month, province) by ``kefu.reports.rollup``; never written by hand.
    ``month`` is the first day of the month in Beijing time (see ``kefu.reports.months``).
    """

    month = models.DateField(_("月份"))
    province = models.ForeignKey(
        "org.Province", verbose_name=_("省份"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "tickets.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("类型"), max_length=20)
    channel = models.CharField(_("渠道"), max_length=20)
    resolved_from_kb = models.BooleanField(_("知识库解决"), default=False)
    count = models.PositiveIntegerField(_("工单数"))

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("月度统计(汇总)")
        verbose_name_plural = _("月度统计(汇总)")
        indexes = [models.Index(fields=["month", "province"], name="reports_count_month_prov_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.province_id} {self.category_id} {self.kind}: {self.count}"


class RollupCheckpoint(models.Model):
    """How far the rollup job has read work-order changes (by ``Ticket.updated_at``)."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    changed_until = models.DateTimeField(_("已处理至"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("最近运行"), null=True, blank=True)
    last_cells = models.PositiveIntegerField(_("最近重算单元"), default=0)

    class Meta:
        verbose_name = _("汇总检查点")
        verbose_name_plural = _("汇总检查点")

    def __str__(self) -> str:
        return f"{self.name} @ {self.changed_until}"


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("投诉/故障统计月报表")


class Recipient(models.Model):
    """Who receives the monthly report by mail. The unit decides what: HQ units the national report,
    a province branch its own province's."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("收件人"), max_length=60)
    email = models.EmailField(_("邮箱"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("对应用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("若填写，发送时还须该用户有效且有权查看该范围的报表"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("报表收件人")
        verbose_name_plural = _("报表收件人")
        ordering = ["unit__kind", "unit__province__report_order", "email"]
        constraints = [models.UniqueConstraint(fields=["unit", "email"], name="reports_recipient_unit_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.unit})"


class MailStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    RETRYING = "retrying", _("发送失败，等待重试")
    FAILED = "failed", _("发送失败(已停止重试)")
    CANCELLED = "cancelled", _("已取消(收件人范围不符)")


class OutboundMail(models.Model):
    """One report mail to one recipient for one month: the outbox.

    The unique key (report, month, recipient) makes enqueueing idempotent, and the
    claim (pending/retrying -> sending, one UPDATE) makes two workers unable to send
    the same row.
    """

    report = models.CharField(
        _("报表"), max_length=20, choices=ReportKind.choices, default=ReportKind.MONTHLY
    )
    month = models.DateField(_("月份"))
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("收件人"), on_delete=models.PROTECT, related_name="mails"
    )
    # What was promised when enqueued: None = the national report. Checked again at send time.
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    email = models.EmailField(_("邮箱"))
    status = models.CharField(
        _("状态"), max_length=20, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    claimed_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("报表邮件")
        verbose_name_plural = _("报表邮件(发件箱)")
        ordering = ["-month", "status", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "month", "recipient"], name="reports_outbox_once"),
            models.CheckConstraint(
                name="reports_outbox_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reports_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_report_display()} {self.month:%Y-%m} → {self.email} ({self.get_status_display()})"
