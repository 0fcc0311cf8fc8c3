"""Hotline telephony: lines, call sources, agent mapping, calls and the answer-rate rollups.

A call belongs to a line; a line is either the national hotline 4009208566
(``province`` None: only national seats see it) or one province's 10000+9
政企专席 (``province`` set). Calls copy the line's province, so the usual
``ProvinceScopedManager`` scoping gives "a desk sees its own line only".
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager


class Line(models.Model):
    class Kind(models.TextChoices):
        HOTLINE = "hotline", _("热线(4009208566)")
        DESK = "desk", _("10000+9 政企专席")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    number = models.CharField(
        _("接入号码"),
        max_length=20,
        unique=True,
        help_text=_("被叫号码(规范形式)，CTI 事件的 to 字段据此识别线路"),
    )
    queues = models.CharField(
        _("话务队列"),
        max_length=200,
        blank=True,
        help_text=_("交换机中的队列名，多个用逗号分隔；队列日志据此识别线路"),
    )
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_lines",
    )
    team = models.ForeignKey(
        "org.Team", verbose_name=_("接听团队"), on_delete=models.PROTECT, related_name="call_lines"
    )
    calendar = models.ForeignKey(
        "sla.ServiceCalendar", verbose_name=_("服务日历"), on_delete=models.PROTECT, related_name="call_lines"
    )
    target_percent = models.DecimalField(
        _("20 秒接通率目标(%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("热线按第七条(一)为 90；低于目标时告警"),
    )
    answer_seconds = models.PositiveSmallIntegerField(_("接通时限(秒)"), default=20)
    access_code = models.CharField(
        _("客户拨打方式"),
        max_length=40,
        blank=True,
        help_text=_("客户如何拨入，如“4009208566”或“10000 按 9”；显示在线路与报表中"),
    )
    target_basis = models.CharField(
        _("目标依据"),
        max_length=200,
        blank=True,
        help_text=_("目标取值的出处，如“第七条(一)：热线 >90%”或本省执行的一般顾客接通率标准"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("话务线路")
        verbose_name_plural = _("话务线路")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                name="calls_line_province_iff_desk",
                condition=(
                    models.Q(kind="desk", province__isnull=False)
                    | models.Q(kind="hotline", province__isnull=True)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def queue_names(self) -> list[str]:
        return [q.strip() for q in self.queues.split(",") if q.strip()]


class CallSource(models.Model):
    """A system that sends call records: a PBX's CTI connector, an Asterisk host, a switch's spreadsheets."""

    class Auth(models.TextChoices):
        HMAC = "hmac", _("HMAC-SHA256 签名")
        TOKEN = "token", _("令牌")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    auth = models.CharField(_("认证方式"), max_length=10, choices=Auth.choices, default=Auth.HMAC)
    # The HMAC key must be readable to verify a signature; a token is kept only as its hash.
    secret = models.CharField(_("签名密钥"), max_length=128, blank=True)
    token_hash = models.CharField(_("令牌摘要"), max_length=64, blank=True)
    max_events_per_minute = models.PositiveIntegerField(_("每分钟事件上限"), default=3000)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("话单来源")
        verbose_name_plural = _("话单来源")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AgentMapping(models.Model):
    """Which user an extension, agent channel or CTI answeringNumber stands for."""

    ref = models.CharField(
        _("分机/坐席标识"),
        max_length=80,
        unique=True,
        help_text=_("如 8001、SIP/8001、Agent/8001 或 CTI 的 answeringNumber"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        related_name="call_extensions",
    )

    class Meta:
        verbose_name = _("坐席分机")
        verbose_name_plural = _("坐席分机")
        ordering = ["ref"]

    def __str__(self) -> str:
        return f"{self.ref} → {self.user}"


class Outcome(models.TextChoices):
    IN_IVR = "in_ivr", _("语音导航中")
    QUEUED = "queued", _("排队中")
    TALKING = "talking", _("通话中")
    ANSWERED = "answered", _("已接通")
    ABANDONED = "abandoned", _("排队放弃")
    IVR = "ivr", _("在语音导航结束")
    TRANSFERRED = "transferred", _("已转接")
    OVERFLOWED = "overflowed", _("溢出")


class Direction(models.TextChoices):
    IN = "in", _("呼入")
    OUT = "out", _("呼出")


class Call(models.Model):
    source = models.ForeignKey(
        CallSource, verbose_name=_("来源"), on_delete=models.PROTECT, related_name="calls"
    )
    call_id = models.CharField(_("呼叫标识"), max_length=250)
    line = models.ForeignKey(Line, verbose_name=_("线路"), on_delete=models.PROTECT, related_name="calls")
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices, default=Direction.IN)
    queue = models.CharField(_("队列"), max_length=80, blank=True)
    caller_raw = models.CharField(_("主叫(原始)"), max_length=80, blank=True)
    caller = models.CharField(_("主叫号码"), max_length=20, blank=True, db_index=True)
    callee = models.CharField(_("被叫号码"), max_length=80, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    started_at = models.DateTimeField(_("呼入时间"), null=True, blank=True)
    queued_at = models.DateTimeField(_("进入队列"), null=True, blank=True)
    # When the caller asked for an agent (人工呼入请求): the queue entry, or the arrival of a call an
    # agent answered without a recorded queue entry. None = never asked (ended in the IVR).
    request_at = models.DateTimeField(_("人工请求时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("接通时间"), null=True, blank=True)
    answered_in_target = models.BooleanField(_("20 秒内接通"), default=False)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_answered",
    )
    agent_ref = models.CharField(_("坐席标识"), max_length=80, blank=True)
    agent_unknown = models.BooleanField(_("坐席未匹配"), default=False)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, default=Outcome.IN_IVR)
    hint = models.CharField(_("结束方式"), max_length=12, blank=True)
    cause = models.CharField(_("挂断原因"), max_length=40, blank=True)
    wait_seconds = models.PositiveIntegerField(_("排队秒数"), null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(_("保持秒数"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("通话秒数"), null=True, blank=True)
    # [[iso instant, event code, detail], ...] deduplicated, in time order: the call's own timeline.
    events = models.JSONField(_("事件"), default=list, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("通话")
        verbose_name_plural = _("通话")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "call_id"], name="calls_call_unique_per_source")
        ]
        indexes = [
            models.Index(fields=["line", "request_at"], name="calls_line_request"),
            models.Index(fields=["province", "started_at"], name="calls_province_started"),
            models.Index(fields=["agent", "started_at"], name="calls_agent_started"),
        ]

    def __str__(self) -> str:
        return f"{self.caller or self.caller_raw or '?'} → {self.line_id} ({self.call_id})"


class CallTicket(models.Model):
    """A work order made from (or linked to) a call."""

    call = models.ForeignKey(
        Call, verbose_name=_("通话"), on_delete=models.CASCADE, related_name="ticket_links"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="call_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关联人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("关联时间"), auto_now_add=True)

    scope_field = "call__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("通话工单")
        verbose_name_plural = _("通话工单")
        constraints = [models.UniqueConstraint(fields=["call", "ticket"], name="calls_callticket_unique")]

    def __str__(self) -> str:
        return f"{self.call_id} → {self.ticket_id}"


class ScreenPop(models.Model):
    """A call shown on an agent's screen; the polling fallback reads these (the socket pushes them)."""

    # PROTECT: which agent was shown which call is history; accounts are deactivated, never deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("坐席"), on_delete=models.PROTECT, related_name="screen_pops"
    )
    call = models.ForeignKey(Call, verbose_name=_("通话"), on_delete=models.CASCADE, related_name="pops")
    event = models.CharField(_("事件"), max_length=20)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    scope_field = "call__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("来电弹屏")
        verbose_name_plural = _("来电弹屏")
        constraints = [models.UniqueConstraint(fields=["user", "call", "event"], name="calls_pop_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.call_id}"


class HalfHour(models.Model):
    """Counts of one line's half hour (by the moment callers asked for an agent), folded from ``SlotDelta``.

    ``in_hours`` false: the half hour lies outside the line's service calendar (counted apart).
    """

    line = models.ForeignKey(
        Line, verbose_name=_("线路"), on_delete=models.CASCADE, related_name="half_hours"
    )
    province = models.ForeignKey(
        "org.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slot = models.DateTimeField(_("时段开始"))
    # The slot's local (Beijing) date: day and month figures group on it without time-zone math.
    day = models.DateField(_("日期"), null=True)
    in_hours = models.BooleanField(_("服务时间内"), default=True)
    # Signed: folds running side by side may add a call's -1 (its request moved) before its +1.
    offered = models.BigIntegerField(_("人工呼入请求量"), default=0)
    answered = models.BigIntegerField(_("接通量"), default=0)
    answered_in_target = models.BigIntegerField(_("20 秒内接通量"), default=0)
    abandoned = models.BigIntegerField(_("放弃量"), default=0)
    wait_answered_seconds = models.BigIntegerField(_("接通前等待合计(秒)"), default=0)
    talk_seconds = models.BigIntegerField(_("通话合计(秒)"), default=0)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("半小时话务")
        verbose_name_plural = _("半小时话务")
        constraints = [models.UniqueConstraint(fields=["line", "slot"], name="calls_halfhour_unique")]
        indexes = [
            models.Index(fields=["slot", "line"], name="calls_halfhour_slot"),
            models.Index(fields=["day", "line"], name="calls_halfhour_day"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.slot:%Y-%m-%d %H:%M}"


class _Counts(models.Model):
    """The figures every rollup row carries (signed in a delta: a call's merge takes its old share away)."""

    offered = models.BigIntegerField(_("人工呼入请求量"), default=0)
    answered = models.BigIntegerField(_("接通量"), default=0)
    answered_in_target = models.BigIntegerField(_("20 秒内接通量"), default=0)
    abandoned = models.BigIntegerField(_("放弃量"), default=0)
    wait_answered_seconds = models.BigIntegerField(_("接通前等待合计(秒)"), default=0)
    talk_seconds = models.BigIntegerField(_("通话合计(秒)"), default=0)

    class Meta:
        abstract = True


COUNT_FIELDS = (
    "offered",
    "answered",
    "answered_in_target",
    "abandoned",
    "wait_answered_seconds",
    "talk_seconds",
)


class SlotDelta(_Counts):
    """Append-only change to one line's half hour, written by every ingest; no row is ever updated.

    Ingest never locks a shared rollup row: it adds what its calls changed here, and
    ``services.rollups_fold`` (every minute, and at the end of a file) moves the deltas
    into ``HalfHour`` and ``DayTotal``. Readers add the deltas not yet folded, so the
    figures are exact at every moment.
    """

    line = models.ForeignKey(Line, verbose_name=_("线路"), on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey(
        "org.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slot = models.DateTimeField(_("时段开始"))
    day = models.DateField(_("日期"))
    in_hours = models.BooleanField(_("服务时间内"), default=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("半小时话务增量")
        verbose_name_plural = _("半小时话务增量")
        indexes = [models.Index(fields=["line", "day"], name="calls_slotdelta_line_day")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.slot:%Y-%m-%d %H:%M} {self.offered:+d}"


class DayTotal(_Counts):
    """One line's day (Beijing date), inside or outside its calendar: the sum of its half hours."""

    line = models.ForeignKey(Line, verbose_name=_("线路"), on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey(
        "org.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("日期"))
    in_hours = models.BooleanField(_("服务时间内"), default=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("日话务")
        verbose_name_plural = _("日话务")
        constraints = [
            models.UniqueConstraint(fields=["line", "day", "in_hours"], name="calls_daytotal_unique")
        ]
        indexes = [models.Index(fields=["day", "line"], name="calls_daytotal_day")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.day}"


class IngestRun(models.Model):
    """One file (or one upload) of call records and what became of each line."""

    class Format(models.TextChoices):
        QUEUE_LOG = "queue_log", _("Asterisk queue_log")
        CDR_CSV = "cdr_csv", _("Asterisk Master.csv")
        SHEET = "sheet", _("Excel/CSV 表格")

    source = models.ForeignKey(
        CallSource, verbose_name=_("来源"), on_delete=models.PROTECT, related_name="runs"
    )
    format = models.CharField(_("格式"), max_length=10, choices=Format.choices)
    filename = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("摘要"), max_length=64, db_index=True)
    encoding = models.CharField(_("编码"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    lines_total = models.PositiveIntegerField(_("行数"), default=0)
    lines_rejected = models.PositiveIntegerField(_("拒收行数"), default=0)
    calls_created = models.PositiveIntegerField(_("新增通话"), default=0)
    calls_updated = models.PositiveIntegerField(_("更新通话"), default=0)
    repeated = models.BooleanField(_("重复文件"), default=False)
    # [{"line": n, "reason": "...", "reason_en": "..."}, ...], at most REJECT_LIMIT entries.
    rejects = models.JSONField(_("拒收明细"), default=list, blank=True)

    class Meta:
        verbose_name = _("话单导入")
        verbose_name_plural = _("话单导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class RateAlert(models.Model):
    """The rolling hour fell under a line's target; raised once per line per half-hour mark."""

    line = models.ForeignKey(Line, verbose_name=_("线路"), on_delete=models.CASCADE, related_name="alerts")
    province = models.ForeignKey(
        "org.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window_end = models.DateTimeField(_("统计截至"))
    offered = models.PositiveIntegerField(_("人工呼入请求量"))
    answered_in_target = models.PositiveIntegerField(_("20 秒内接通量"))
    created_at = models.DateTimeField(_("告警时间"), auto_now_add=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("接通率告警")
        verbose_name_plural = _("接通率告警")
        ordering = ["-window_end"]
        constraints = [models.UniqueConstraint(fields=["line", "window_end"], name="calls_alert_once")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.window_end:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> float:
        return 100.0 * self.answered_in_target / self.offered if self.offered else 0.0
