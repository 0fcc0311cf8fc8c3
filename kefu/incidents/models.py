"""Platform incidents (第九条(二)): the incident, its timeline, HQ mail, bulletins with receipts, linked orders.

An incident is national: it is not owned by a province, and the selectors show a
province the incidents that affect it. What belongs to a province (its linked
orders, its desk's receipts) is province-owned (``ProvinceScopedManager``), so a
province never reads another's orders or receipts through an incident.
``status`` is written only by ``services.incident_set_status`` through ``workflow``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager

from . import workflow


class Status(models.TextChoices):
    INVESTIGATING = workflow.INVESTIGATING, _("调查中")
    IDENTIFIED = workflow.IDENTIFIED, _("已定位")
    MONITORING = workflow.MONITORING, _("观察中")
    RESOLVED = workflow.RESOLVED, _("已恢复")
    REVIEWED = workflow.REVIEWED, _("已复盘")


class Impact(models.TextChoices):
    P1 = "P1", _("P1 重大：平台整体或多省不可用，大量客户无法开会")
    P2 = "P2", _("P2 较大：部分功能或部分省份受影响，有替代办法")
    P3 = "P3", _("P3 一般：个别功能异常，影响少量客户")


class Incident(models.Model):
    number = models.CharField(_("事件编号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    services = models.CharField(_("受影响业务/功能"), max_length=300)
    all_provinces = models.BooleanField(_("全国受影响"), default=False)
    provinces = models.ManyToManyField(
        "org.Province", verbose_name=_("受影响省份"), blank=True, related_name="+"
    )
    # Empty = any complaint, fault or consultation in the window matches.
    categories = models.ManyToManyField(
        "tickets.Category", verbose_name=_("相关工单分类"), blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("故障开始时间"))
    detected_at = models.DateTimeField(_("发现时间"))
    declared_at = models.DateTimeField(_("宣告时间"), default=timezone.now, db_index=True)
    symptoms = models.TextField(_("故障现象"))
    impact = models.CharField(_("影响级别"), max_length=2, choices=Impact.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    measures = models.TextField(_("处理措施"), blank=True)
    workaround = models.TextField(_("临时解决办法"), blank=True)
    expected_recovery_at = models.DateTimeField(_("预计恢复时间"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("宣告人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    declared_unit = models.CharField(_("宣告单位"), max_length=40, blank=True)
    # HQ notification (第九条(二) "第一时间"): the in-app alert is written in the declaring transaction.
    hq_notified_at = models.DateTimeField(_("通知集团时间"), null=True, blank=True)
    hq_mail_sent_at = models.DateTimeField(_("集团邮件发出时间"), null=True, blank=True)
    hq_seen_at = models.DateTimeField(_("集团确认收到时间"), null=True, blank=True)
    hq_seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("集团确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The related orders so far, by province and kind, compiled at declaration (the annex to HQ).
    annex = models.JSONField(_("附件：相关投诉与咨询"), default=dict, blank=True)
    resolved_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("复盘完成时间"), null=True, blank=True)
    resolution_text = models.TextField(_("恢复说明(统一答复客户)"), blank=True)
    review_summary = models.TextField(_("复盘结论"), blank=True)
    auto_link = models.BooleanField(_("自动关联新工单"), default=False)
    auto_link_keywords = models.CharField(
        _("自动关联关键词"),
        max_length=200,
        blank=True,
        help_text=_("空格分隔；主题或描述含任一关键词即自动关联"),
    )
    autolink_checked_until = models.DateTimeField(null=True, blank=True)
    urgent_article_id = models.PositiveBigIntegerField(_("紧急知识编号"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("平台突发事件")
        verbose_name_plural = _("平台突发事件")
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"], name="incident_status_started_idx")]
        constraints = [
            models.CheckConstraint(
                name="incident_detected_after_start", condition=Q(detected_at__gte=models.F("started_at"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return workflow.is_open(self.status)


class Update(models.Model):
    """One entry of the incident's timeline. ``kind`` is a stable code; the text is what people wrote."""

    class Kind(models.TextChoices):
        DECLARED = "declared", _("宣告")
        STATUS = "status", _("状态变更")
        NOTE = "note", _("进展")
        HQ_NOTIFIED = "hq_notified", _("通知集团")
        HQ_SEEN = "hq_seen", _("集团确认收到")
        BULLETIN = "bulletin", _("下发通报")
        BULK = "bulk", _("批量答复办结")
        ARTICLE = "article", _("紧急知识")

    incident = models.ForeignKey(
        Incident, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="updates"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status_from = models.CharField(_("原状态"), max_length=20, blank=True)
    status_to = models.CharField(_("新状态"), max_length=20, blank=True)
    body = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("事件进展")
        verbose_name_plural = _("事件进展")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def status_to_label(self) -> str:
        return str(Status(self.status_to).label) if self.status_to in Status.values else self.status_to


class MailStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    RETRYING = "retrying", _("发送失败，等待重试")
    FAILED = "failed", _("发送失败(已停止重试)")


class Mail(models.Model):
    """The incident outbox: written in the service's transaction, sent by a worker, retried on failure."""

    class Purpose(models.TextChoices):
        HQ_REPORT = "hq_report", _("事件报告(集团客服部)")
        REMINDER = "reminder", _("通报确认提醒")

    incident = models.ForeignKey(
        Incident, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="mails"
    )
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices)
    email = models.EmailField(_("收件人"))
    subject = models.CharField(_("主题"), max_length=200)
    body = models.TextField(_("正文"))
    status = models.CharField(
        _("状态"), max_length=20, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件邮件")
        verbose_name_plural = _("事件邮件(发件箱)")
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="incident_mail_due_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.purpose} → {self.email}"


class Bulletin(models.Model):
    """A 通报 from HQ to the desks: the customer script (口径) and the agents' guidance.

    A change is a new bulletin with the next ``version``; every addressee acknowledges the new one.
    """

    incident = models.ForeignKey(
        Incident, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="bulletins"
    )
    version = models.PositiveSmallIntegerField(_("版本"))
    customer_script = models.TextField(_("客户口径"))
    agent_guidance = models.TextField(_("坐席处理指引"))
    issued_at = models.DateTimeField(_("下发时间"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下发人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_current = models.BooleanField(_("当前版本"), default=True)

    class Meta:
        verbose_name = _("事件通报")
        verbose_name_plural = _("事件通报")
        ordering = ["incident", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "version"], name="incident_bulletin_version"),
            models.UniqueConstraint(
                fields=["incident"], condition=Q(is_current=True), name="incident_one_current_bulletin"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} v{self.version}"


class Receipt(models.Model):
    """One addressed team's acknowledgement of one bulletin version (like a knowledge loading receipt)."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="receipts"
    )
    team = models.ForeignKey("org.Team", verbose_name=_("团队"), on_delete=models.PROTECT, related_name="+")
    # The desk's province; None for the national hotline and online teams.
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("最近提醒"), null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(_("提醒次数"), default=0)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("通报回执")
        verbose_name_plural = _("通报回执")
        ordering = ["bulletin", "province__report_order", "team__code"]
        constraints = [models.UniqueConstraint(fields=["bulletin", "team"], name="incident_receipt_once")]
        indexes = [
            models.Index(fields=["acknowledged_at", "reminded_at"], name="incident_receipt_pending_idx")
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} {self.team_id}"


class BulkOutcome(models.TextChoices):
    NONE = "", _("未执行")
    DONE = "done", _("已答复办结")
    ALREADY = "already", _("此前已办结")
    FAILED = "failed", _("失败")


class Link(models.Model):
    """A work order counted as one of the incident's contacts."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("事件"), on_delete=models.PROTECT, related_name="links"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="+"
    )
    province = models.ForeignKey(
        "org.Province", verbose_name=_("省份"), on_delete=models.PROTECT, related_name="+"
    )
    ticket_created_at = models.DateTimeField(_("工单登记时间"))
    linked_at = models.DateTimeField(_("关联时间"), default=timezone.now, db_index=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关联人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    auto = models.BooleanField(_("规则自动关联"), default=False)
    bulk_outcome = models.CharField(_("批量办结结果"), max_length=10, choices=BulkOutcome.choices, blank=True)
    bulk_error = models.TextField(_("失败原因"), blank=True)
    bulk_at = models.DateTimeField(_("批量办结时间"), null=True, blank=True)
    # Who pressed the button; the order's own events name the system account that acted (bulk.py).
    bulk_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批量办结发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The order's resolve clock outcome after the bulk run ("met", "late", ...), for the SLA impact.
    sla_outcome = models.CharField(_("时限结果"), max_length=20, blank=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("关联工单")
        verbose_name_plural = _("关联工单")
        ordering = ["-linked_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["ticket"], name="incident_link_one_incident")]
        indexes = [models.Index(fields=["incident", "province"], name="incident_link_prov_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} ↔ {self.ticket_id}"


class ContactKind(models.TextChoices):
    CHAT = "chat", _("在线会话")
    CALL = "call", _("热线/专席通话")


class ContactLink(models.Model):
    """A chat conversation or a call counted as one of the incident's contacts (besides orders).

    ``province`` is the contact's province: a provincial desk's chat or call; None for
    the national online team and the national hotline, which only national seats read.
    """

    incident = models.ForeignKey(
        Incident, verbose_name=_("事件"), on_delete=models.PROTECT, related_name="contact_links"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=ContactKind.choices)
    conversation = models.ForeignKey(
        "chat.Conversation",
        verbose_name=_("在线会话"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("通话"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact_at = models.DateTimeField(_("联系时间"))
    linked_at = models.DateTimeField(_("关联时间"), default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关联人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("关联会话与通话")
        verbose_name_plural = _("关联会话与通话")
        ordering = ["-linked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(conversation__isnull=False),
                name="incident_contact_chat_once",
            ),
            models.UniqueConstraint(
                fields=["call"], condition=Q(call__isnull=False), name="incident_contact_call_once"
            ),
            models.CheckConstraint(
                name="incident_contact_one_kind",
                condition=(
                    Q(kind="chat", conversation__isnull=False, call__isnull=True)
                    | Q(kind="call", call__isnull=False, conversation__isnull=True)
                ),
            ),
        ]
        indexes = [models.Index(fields=["incident", "kind", "province"], name="incident_contact_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} ↔ {self.kind}:{self.conversation_id or self.call_id}"
