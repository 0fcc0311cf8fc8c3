"""Service calendars, time-limit policies, clocks and the notices they raise.

The SLA app knows nothing about work orders: a clock belongs to an owner named
by ``(owner_type, owner_id)``, for example ``("tickets.hop", 42)``.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager
from kefu.org.models import Province, Team


class ServiceCalendar(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    timezone = models.CharField(_("时区"), max_length=40, default="Asia/Shanghai")
    observes_holidays = models.BooleanField(
        _("遵循法定节假日与调休"),
        default=False,
        help_text=_("勾选后，法定节假日不计服务时间，调休上班日按周一的服务时段计算"),
    )

    class Meta:
        verbose_name = _("服务日历")
        verbose_name_plural = _("服务日历")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A misspelt zone would make every clock start on this calendar fail.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": _("未知时区，例如 Asia/Shanghai。")}) from None


class ServiceHours(models.Model):
    class Weekday(models.IntegerChoices):
        MON = 0, _("周一")
        TUE = 1, _("周二")
        WED = 2, _("周三")
        THU = 3, _("周四")
        FRI = 4, _("周五")
        SAT = 5, _("周六")
        SUN = 6, _("周日")

    calendar = models.ForeignKey(
        ServiceCalendar, verbose_name=_("服务日历"), on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    opens = models.TimeField(_("开始"), default=time(8, 0))
    closes = models.TimeField(_("结束"), default=time(20, 0), help_text=_("00:00 表示当日 24:00"))

    class Meta:
        verbose_name = _("服务时段")
        verbose_name_plural = _("服务时段")
        ordering = ["calendar", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "weekday"], name="sla_hours_one_per_weekday")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        # Otherwise the day silently becomes a closed day (see calendars._minutes).
        closes = self.closes.hour * 60 + self.closes.minute or 24 * 60
        if self.opens is not None and closes <= self.opens.hour * 60 + self.opens.minute:
            raise ValidationError({"closes": _("结束时间须晚于开始时间（00:00 表示当日 24:00）。")})


class Holiday(models.Model):
    """One day of the State Council's holiday notice: a day off, or a make-up working day (调休)."""

    class Kind(models.TextChoices):
        OFF = "off", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=40)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name} ({self.get_kind_display()})"


class ClockKind(models.TextChoices):
    ACCEPT = "accept", _("受理或退回(初次回应)")
    FIRST_RESPONSE = "first_response", _("首次答复")
    RESOLVE = "resolve", _("最终解决")
    REPLY = "reply", _("回复客户")


class Policy(models.Model):
    """How long one kind of clock may run, for a ticket kind and receiving team type."""

    class Counting(models.TextChoices):
        SERVICE = "service", _("服务时间(只计服务时段)")
        NATURAL = "natural", _("自然时间(24小时连续计时)")

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    target = models.CharField(_("时限类型"), max_length=20, choices=ClockKind.choices)
    ticket_kind = models.CharField(_("工单类型"), max_length=30, blank=True, help_text=_("留空表示任意类型"))
    team_kind = models.CharField(
        _("承办团队类型"),
        max_length=20,
        choices=Team.Kind.choices,
        blank=True,
        help_text=_("留空表示任意团队"),
    )
    duration_minutes = models.PositiveIntegerField(_("时限(分钟)"), validators=[MinValueValidator(1)])
    counting = models.CharField(
        _("计时方式"), max_length=10, choices=Counting.choices, default=Counting.SERVICE
    )
    calendar = models.ForeignKey(
        ServiceCalendar, verbose_name=_("服务日历"), on_delete=models.PROTECT, related_name="policies"
    )
    pause_statuses = models.JSONField(
        _("暂停计时的状态"),
        default=list,
        blank=True,
        help_text=_('工单处于这些状态时时钟暂停，例如 ["waiting_customer"]'),
    )
    warn_ratio = models.DecimalField(
        _("预警比例"),
        max_digits=3,
        decimal_places=2,
        default=0.75,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("用去该比例的时限时发出预警；0 表示不预警"),
    )
    on_time_target = models.DecimalField(
        _("及时率目标(%)"),
        max_digits=5,
        decimal_places=2,
        default=98,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    is_active = models.BooleanField(_("启用"), default=True)
    rule_ref = models.CharField(_("规则出处"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        ordering = ["target", "ticket_kind", "team_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "ticket_kind", "team_kind"],
                condition=Q(is_active=True),
                name="sla_policy_one_active_per_match",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def service_hours(self) -> bool:
        return self.counting == self.Counting.SERVICE

    def clean(self) -> None:
        statuses = self.pause_statuses
        if not isinstance(statuses, list) or not all(isinstance(x, str) and x for x in statuses):
            raise ValidationError({"pause_statuses": _('应为状态代码的列表，例如 ["waiting_customer"]。')})


class Clock(models.Model):
    """One deadline of one owner (a work-order hop), charged to the team holding it.

    Deadlines are stored columns so that the sweep and the queues read an index,
    not a calendar. ``next_check_at`` is the earliest pending automatic outcome
    (warning or expiry) of a running clock, None when nothing is pending: the
    sweep reads only rows with ``next_check_at <= now`` through a partial index,
    so its cost follows the due clocks, not the open ones.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("计时中")
        PAUSED = "paused", _("已暂停")
        STOPPED = "stopped", _("已停止")

    class Outcome(models.TextChoices):
        NONE = "", _("未定")
        MET = "met", _("按时")
        LATE = "late", _("超时")
        HANDED_OVER = "handed_over", _("已移交(不计)")

    owner_type = models.CharField(_("对象类型"), max_length=40)
    owner_id = models.BigIntegerField(_("对象编号"))
    kind = models.CharField(_("时限类型"), max_length=20, choices=ClockKind.choices)
    ticket_kind = models.CharField(_("工单类型"), max_length=30)
    # Few indexes on purpose: every one is rewritten when the sweep updates a row
    # (next_check_at is indexed, so no HOT update); reads go through the
    # partial indexes and the rate index below.
    team = models.ForeignKey(
        Team, verbose_name=_("承办团队"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    province = models.ForeignKey(
        Province,
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    policy = models.ForeignKey(
        Policy, verbose_name=_("时限策略"), on_delete=models.PROTECT, related_name="clocks", db_index=False
    )
    # Snapshot of the policy at start, so an edit in admin does not move running deadlines.
    service_hours = models.BooleanField(_("按服务时间计"), default=True)
    calendar = models.ForeignKey(
        ServiceCalendar,
        verbose_name=_("服务日历"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    budget_seconds = models.PositiveIntegerField(_("时限(秒)"))
    warn_ratio = models.DecimalField(_("预警比例"), max_digits=3, decimal_places=2, default=0.75)

    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, default="", blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("下次检查"), null=True, blank=True)
    # Budget left when paused or stopped (negative = overrun), in the clock's counting.
    remaining_seconds = models.IntegerField(_("剩余(秒)"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    warned_at = models.DateTimeField(_("已预警"), null=True, blank=True)
    breached_at = models.DateTimeField(_("已超时"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("停止时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("时限时钟")
        verbose_name_plural = _("时限时钟")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "kind"], name="sla_clock_one_per_owner_kind"
            ),
            models.CheckConstraint(
                name="sla_clock_running_has_due",
                condition=~Q(status="running") | Q(due_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="sla_clock_next_check_idx",
                condition=Q(next_check_at__isnull=False),
            ),
            models.Index(fields=["due_at"], name="sla_clock_running_due_idx", condition=Q(status="running")),
            models.Index(fields=["kind", "ticket_kind", "started_at"], name="sla_clock_rate_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_type}#{self.owner_id} {self.kind} {self.status}"


class Notice(models.Model):
    """A warning or breach shown to the holder team and its supervisors."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("即将超时预警")
        BREACH = "breach", _("已超时")

    # Both covered by the composite indexes below.
    clock = models.ForeignKey(
        Clock, verbose_name=_("时钟"), on_delete=models.CASCADE, related_name="notices", db_index=False
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("承办团队"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    province = models.ForeignKey(
        Province, verbose_name=_("省份"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_type = models.CharField(_("对象类型"), max_length=40)
    owner_id = models.BigIntegerField(_("对象编号"))
    clock_kind = models.CharField(_("时限类型"), max_length=20, choices=ClockKind.choices)
    due_at = models.DateTimeField(_("到期时间"))
    created_at = models.DateTimeField(_("时间"))

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("时限提醒")
        verbose_name_plural = _("时限提醒")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="sla_notice_once_per_kind")]
        indexes = [models.Index(fields=["team", "-created_at"], name="sla_notice_team_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.owner_type}#{self.owner_id}"
