"""Online service (在线客服): conversations, their messages, presence, transfers, notes, settings.

A conversation belongs to a team (the online team; a province desk once it is
transferred there); agents see the conversations of their teams. The visitor
holds an unguessable token (``kefu.realtime.VisitorToken``) that grants only
the conversation's push group. Every message carries the sender's client id
(duplicates are dropped) and a per-conversation sequence number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChatSettings(models.Model):
    """One row: how the online service runs (editable in admin; every change audited)."""

    class Routing(models.TextChoices):
        LEAST_LOADED = "least_loaded", _("自动分配给会话最少的坐席")
        MANUAL = "manual", _("坐席自行接入")

    team = models.OneToOneField("org.Team", verbose_name=_("在线客服团队"), on_delete=models.PROTECT)
    calendar = models.ForeignKey("sla.ServiceCalendar", verbose_name=_("服务时间"), on_delete=models.PROTECT)
    routing = models.CharField(_("分配方式"), max_length=20, choices=Routing.choices, default=Routing.MANUAL)
    max_concurrent = models.PositiveSmallIntegerField(_("每名坐席同时会话上限"), default=5)
    idle_minutes = models.PositiveSmallIntegerField(_("访客未提问自动结束(分钟)"), default=5)
    # Whose name goes on the orders made automatically from left messages (the first contact, 首问);
    # empty: the team's first active member who may record orders.
    left_message_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("留言自动生成工单的登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("在线客服设置")
        verbose_name_plural = _("在线客服设置")

    def __str__(self) -> str:
        return str(self.team)


class Presence(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", _("在线")
        AWAY = "away", _("离开")
        OFFLINE = "offline", _("离线")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chat_presence"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OFFLINE)
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("坐席状态")
        verbose_name_plural = _("坐席状态")

    def __str__(self) -> str:
        return f"{self.user_id}:{self.status}"


class Conversation(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("排队中")
        ACTIVE = "active", _("会话中")
        CLOSED = "closed", _("已结束")
        ABANDONED = "abandoned", _("未接入即离开")
        LEFT_MESSAGE = "left", _("留言")

    class ClosedBy(models.TextChoices):
        AGENT = "agent", _("坐席结束")
        VISITOR = "visitor", _("访客结束")
        IDLE = "idle", _("访客未提问自动结束")

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        NEUTRAL = "neutral", _("一般")
        UNSATISFIED = "unsatisfied", _("不满意")

    team = models.ForeignKey(
        "org.Team", verbose_name=_("当前团队"), on_delete=models.PROTECT, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.WAITING)
    visitor_name = models.CharField(_("访客姓名"), max_length=60)
    visitor_unit = models.CharField(_("单位"), max_length=120, blank=True)
    visitor_phone = models.CharField(_("电话"), max_length=16, blank=True)  # canonical form, "" when none
    # A match by phone, shown to the agent as a *possible* customer; it grants nothing.
    possible_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("可能的联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token = models.ForeignKey(
        "realtime.VisitorToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(_("来源页面"), max_length=200, blank=True)
    address = models.GenericIPAddressField(_("访客地址"), null=True, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    visitor_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("接入时间"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    last_visitor_at = models.DateTimeField(null=True, blank=True)
    visitor_asked = models.BooleanField(default=False)  # the visitor wrote something after the greeting
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.CharField(_("结束方式"), max_length=10, choices=ClosedBy.choices, blank=True)
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    transfers = models.PositiveSmallIntegerField(_("转接次数"), default=0)
    # A message left outside service hours: what the visitor asked for (consultation or fault).
    requested_kind = models.CharField(_("留言类型"), max_length=12, blank=True)
    kb_answered = models.BooleanField(_("以知识库作答"), default=False)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("在线会话")
        verbose_name_plural = _("在线会话")
        indexes = [models.Index(fields=["team", "status", "created_at"], name="chat_conv_team_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.visitor_name}"

    @property
    def group(self) -> str:
        return f"chat.{self.pk}"


class Message(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor", _("访客")
        AGENT = "agent", _("坐席")
        SYSTEM = "system", _("系统")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=8, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, default="text")  # text | greeting | closing | event
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)  # citations, norms codes, event details
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("会话消息")
        verbose_name_plural = _("会话消息")
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=~models.Q(client_id=""),
                name="chat_message_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class Note(models.Model):
    """An internal note: agents of the conversation's team see it, the visitor never does."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.text[:20]}"


class Transfer(models.Model):
    """A hand-over to another agent or team, with a reason code (counted like work-order transfers)."""

    class Reason(models.TextChoices):
        WRONG_TEAM = "wrong_team", _("不属于本团队业务")
        EXPERTISE = "expertise", _("需要专业支持")
        COMPLAINT_TO_PROVINCE = "complaint_to_province", _("投诉转本省10000+9")
        LOAD = "load", _("坐席忙，转同组")
        OTHER = "other", _("其他")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="transfer_rows")
    from_team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="+")
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("转接原因"), max_length=30, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.from_team_id}->{self.to_team_id}"


class Attachment(models.Model):
    """A file or image sent in a conversation, checked by the work-order attachment rules.

    Stored under a server-made name (``chat/<yyyy>/<mm>/<random hex>``); the uploaded
    name is kept for display and the download header only. ``is_transcript`` marks
    the conversation's own record written when it ends.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="files")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="file"
    )
    sender = models.CharField(max_length=8, choices=Message.Sender.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    storage_name = models.CharField(_("存储名"), max_length=80, unique=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    is_transcript = models.BooleanField(_("会话记录"), default=False)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会话附件")
        verbose_name_plural = _("会话附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
