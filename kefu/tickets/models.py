"""Work orders (工单): the four contact kinds, their categories, dispatch hops, replies, notes, attachments.

``status`` is written only by ``kefu.tickets.services`` through the table in
``kefu.tickets.workflow``. Everything a customer or another province may not
see is province-owned (``objects = ProvinceScopedManager()``); children follow
their ticket through ``scope_field = "ticket__province"``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    ACCEPTANCE = "acceptance", _("业务受理")
    COMPLAINT = "complaint", _("投诉")
    FAULT = "fault", _("故障申告")


class Channel(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("客户经理")
    PROVINCE_DESK = "province_desk", _("10000+9政企专席")
    HOTLINE = "hotline", _("语音客服(4009208566)")
    ONLINE = "online", _("在线客服")


class Topic(models.TextChoices):
    """What a consultation is about, or which business an acceptance is for."""

    BUSINESS = "business", _("业务咨询")
    USAGE = "usage", _("使用咨询")
    BILL = "bill", _("账单咨询")
    PROMOTION = "promotion", _("促销活动咨询")
    ACTIVATION = "activation", _("业务开通")
    CHANGE = "change", _("业务变更")
    TERMINATION = "termination", _("业务退租")


CONSULTATION_TOPICS = frozenset({Topic.BUSINESS, Topic.USAGE, Topic.BILL, Topic.PROMOTION})
ACCEPTANCE_TOPICS = frozenset({Topic.ACTIVATION, Topic.CHANGE, Topic.TERMINATION})


class Status(models.TextChoices):
    OPEN = "open", _("首问处理中")
    AWAITING_ACCEPTANCE = "awaiting_acceptance", _("待接单")
    ACCEPTED = "accepted", _("承办中")
    RESULT_RETURNED = "result_returned", _("结果已返回待答复")
    WAITING_CUSTOMER = "waiting_customer", _("待客户补充")
    RESOLVED = "resolved", _("已办结")
    # A complaint taken at the hotline or online, submitted to the customer's 10000+9 desk (第三条(三)3):
    # in that desk's queue until it records it and its follow-up.
    SUBMITTED = "submitted", _("已报送待省跟进")
    CLOSED = "closed", _("已归档")


OPEN_STATUSES = frozenset(
    {
        Status.OPEN,
        Status.AWAITING_ACCEPTANCE,
        Status.ACCEPTED,
        Status.RESULT_RETURNED,
        Status.WAITING_CUSTOMER,
        Status.SUBMITTED,
    }
)
# In a fixed order, so that the partial indexes' migrations are stable.
OPEN_STATUS_VALUES = sorted(str(s) for s in OPEN_STATUSES)


class ReferredTo(models.TextChoices):
    """Where the desk, hotline or online team sent a customer who wants business done (第三条)."""

    BUSINESS_HALL = "business_hall", _("电信营业厅")
    ACCOUNT_MANAGER = "account_manager", _("客户经理")
    ONLINE_HALL = "online_hall", _("网上营业厅")


class AcceptanceOutcome(models.TextChoices):
    COMPLETED = "completed", _("已办理")
    DECLINED = "declined", _("不予办理")
    FORWARDED = "forwarded", _("按业务管理办法转办")


class Category(models.Model):
    """One node of the three-level statistics taxonomy (第八条). Data, not code.

    Level 3 changes with reality; a node is in force from ``valid_from`` to
    ``valid_to`` (exclusive, None = still in force), so retiring or adding one
    never rewrites past months.
    """

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("层级"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    valid_from = models.DateField(_("生效日期"), default=dt.date(2015, 1, 1))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ["level", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(name="category_level_1_to_3", condition=Q(level__gte=1, level__lte=3)),
            models.CheckConstraint(
                name="category_root_iff_level_1",
                condition=(Q(level=1, parent__isnull=True) | (Q(level__gt=1) & Q(parent__isnull=False))),
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)


class NumberCounter(models.Model):
    """The work-order number counter on databases without sequences (SQLite), locked in the transaction."""

    name = models.CharField(max_length=20, unique=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class ReturnedCharField(models.CharField):
    """A CharField the INSERT hands back (``RETURNING``): the order's number may be computed by the
    database from its sequence in the INSERT itself (one round trip fewer per create)."""

    @property
    def db_returning(self) -> bool:
        from django.db import connection

        return bool(connection.features.can_return_columns_from_insert)


class Ticket(models.Model):
    number = ReturnedCharField(_("工单号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    topic = models.CharField(_("细分"), max_length=20, choices=Topic.choices, blank=True)
    channel = models.CharField(_("受理渠道"), max_length=20, choices=Channel.choices)
    # Indexed by (province, -created_at) below; a single-column index only tempted the planner into
    # AND-ing a whole province's rows into the queue queries.
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="tickets"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    caller_phone = models.CharField(_("来电号码"), max_length=16, blank=True, db_index=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    subject = models.CharField(_("主题"), max_length=200)
    description = models.TextField(_("问题描述"), blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.OPEN)
    # Where a ticket waiting for the customer goes back to (open or accepted).
    resume_status = models.CharField(_("恢复状态"), max_length=24, choices=Status.choices, blank=True)

    # 首问负责制: named for the whole life of the order, never changed after creation.
    first_contact_team = models.ForeignKey(
        "org.Team", verbose_name=_("首问单位"), on_delete=models.PROTECT, related_name="first_contact_tickets"
    )
    first_contact_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("首问人"), on_delete=models.PROTECT, related_name="+"
    )
    holder_team = models.ForeignKey(
        "org.Team", verbose_name=_("当前处理团队"), on_delete=models.PROTECT, related_name="held_tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    referred_to = models.CharField(_("引导办理渠道"), max_length=20, choices=ReferredTo.choices, blank=True)
    acceptance_outcome = models.CharField(
        _("受理结果"), max_length=20, choices=AcceptanceOutcome.choices, blank=True
    )
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_from_kb = models.BooleanField(_("知识库解决"), default=False)
    kb_article_id = models.PositiveBigIntegerField(_("引用知识编号"), null=True, blank=True)
    kb_article_title = models.CharField(_("引用知识标题"), max_length=200, blank=True)
    off_rule_transfers = models.PositiveSmallIntegerField(_("违规转派次数"), default=0)

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    last_reply_at = models.DateTimeField(_("最近答复客户"), null=True, blank=True)
    # The nearest running SLA deadline (copied from kefu.sla when a clock starts or resumes), for the queues.
    due_at = models.DateTimeField(_("最近时限"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["holder_team", "status", "-created_at"], name="ticket_holder_status_idx"),
            models.Index(fields=["province", "-created_at"], name="ticket_province_created_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["first_contact_agent", "-created_at"], name="ticket_fca_created_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status_idx"),
            # The workbench queues read open orders only: small partial indexes in the order they are shown.
            models.Index(
                fields=["holder_team", "-created_at"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_holder_created_idx",
            ),
            models.Index(
                fields=["holder_team", "due_at"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_holder_due_idx",
            ),
            # A provincial agent's queues also carry the scope filter (province_id IN ...).
            models.Index(
                fields=["province", "holder_team", "-created_at"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_prov_holder_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="ticket_category_unless_consultation",
                condition=Q(kind="consultation") | Q(kind="acceptance") | Q(category__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReasonCode(models.TextChoices):
    """Why a work order was handed to another team (transfers need one, 首问负责制)."""

    NEEDS_EXPERT = "needs_expert", _("需语音客服专家解答")
    COMPLAINT_ASSIST = "complaint_assist", _("投诉需语音客服协助处理")
    FAULT_UNSOLVED = "fault_unsolved", _("故障预处理无法解决")
    AM_HANDOVER = "am_handover", _("客户经理协助转交10000+9登记处理")
    REASSIGNED = "reassigned", _("主管改派")
    COMPLAINT_REPORT = "complaint_report", _("热线/在线投诉报送客户所属省10000+9")
    WRONG_PROVINCE = "wrong_province", _("客户归属省份有误")
    CUSTOMER_REQUEST = "customer_request", _("客户要求转接")
    OTHER = "other", _("其他(须说明)")


class ReturnReason(models.TextChoices):
    NOT_OURS = "not_ours", _("非本团队承办范围")
    INFO_MISSING = "info_missing", _("工单信息不全")
    WRONG_TEAM = "wrong_team", _("派错团队")
    OTHER = "other", _("其他(须说明)")


class HopStatus(models.TextChoices):
    PENDING = "pending", _("待接单")
    ACCEPTED = "accepted", _("已接单")
    AUTO_ACCEPTED = "auto_accepted", _("超时视为接单")
    RETURNED = "returned", _("已退回")
    CLOSED = "closed", _("已结束")


class Hop(models.Model):
    """One hand-off of a work order from one team to another; the receiver accepts or returns it."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="hops")
    from_team = models.ForeignKey(
        "org.Team", verbose_name=_("派出团队"), on_delete=models.PROTECT, related_name="+"
    )
    to_team = models.ForeignKey(
        "org.Team", verbose_name=_("接收团队"), on_delete=models.PROTECT, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派单人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason_code = models.CharField(_("转派原因"), max_length=30, choices=ReasonCode.choices)
    note = models.TextField(_("说明"), blank=True)
    # A hand-off the rules do not call for (首问负责制): shown to the supervisor and counted.
    off_rule = models.BooleanField(_("规则外转派"), default=False)
    requires_acceptance = models.BooleanField(_("须接单或退回"), default=True)
    status = models.CharField(_("状态"), max_length=20, choices=HopStatus.choices, default=HopStatus.PENDING)
    created_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=20, choices=ReturnReason.choices, blank=True)
    return_note = models.TextField(_("退回说明"), blank=True)
    result = models.TextField(_("承办结果"), blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    scope_field = "ticket__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("派单环节")
        verbose_name_plural = _("派单环节")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["to_team", "status"], name="hop_to_team_status_idx")]
        constraints = [
            # One open hand-off at a time: the order is with one team.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["pending", "accepted", "auto_accepted"]),
                name="hop_one_open_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_team_id} -> {self.to_team_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (HopStatus.PENDING, HopStatus.ACCEPTED, HopStatus.AUTO_ACCEPTED)


class ReplyMethod(models.TextChoices):
    CALL_BACK = "call_back", _("电话回访")
    SMS = "sms", _("短信")
    ONLINE = "online", _("在线答复")
    RELAY = "relay", _("客户经理转达")


class CustomerReply(models.Model):
    """A reply to the customer: who, when, how. The rules' deadlines are deadlines to reply."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="replies"
    )
    team = models.ForeignKey(
        "org.Team", verbose_name=_("答复团队"), on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    method = models.CharField(_("答复方式"), max_length=20, choices=ReplyMethod.choices)
    content = models.TextField(_("答复内容"))
    replied_at = models.DateTimeField(_("答复时间"), default=timezone.now)

    scope_field = "ticket__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("客户答复")
        verbose_name_plural = _("客户答复")
        ordering = ["replied_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.method} {self.replied_at:%Y-%m-%d %H:%M}"


class Note(models.Model):
    """An internal note between teams; never shown to the customer."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="notes")
    team = models.ForeignKey("org.Team", verbose_name=_("团队"), on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    scope_field = "ticket__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("内部备注")
        verbose_name_plural = _("内部备注")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} note {self.pk}"


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="attachments"
    )
    # Server-generated; the uploaded name is kept only for display and the download header.
    storage_name = models.CharField(_("存储名"), max_length=80, unique=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey("org.Team", verbose_name=_("团队"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    scope_field = "ticket__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class IdempotencyKey(models.Model):
    """A create request's Idempotency-Key: the same key from the same user returns the same order."""

    # PROTECT: user accounts are deactivated, never deleted; a key belongs to its order's history.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return self.key
