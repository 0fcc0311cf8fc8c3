"""Quality inspection (质检): sampled contacts scored against the numbered rules of 第五、六条.

A contact is named generically (``contact_kind`` + ``contact_id``: ``ticket`` today, ``chat`` and
``call`` as those apps arrive). An inspection belongs to the province of the agent's team (a
province inspects its own desk); the national hotline and online teams' inspections have no
province and are seen by national scopes only (HQ service, the operating unit).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager


class ScoreItem(models.Model):
    """One line of the scorecard: a numbered rule and its weight (maximum points)."""

    code = models.CharField(_("条款"), max_length=20, unique=True)
    title = models.CharField(_("内容"), max_length=200)
    channel = models.CharField(_("适用"), max_length=10, default="all")  # all | hotline | online
    weight = models.PositiveSmallIntegerField(_("分值"))
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("质检评分项")
        verbose_name_plural = _("质检评分项")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class SamplingSetting(models.Model):
    """One row: how many random contacts per agent and month."""

    samples_per_agent = models.PositiveSmallIntegerField(_("每坐席每月随机抽检数"), default=3)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("抽检设置")
        verbose_name_plural = _("抽检设置")

    def __str__(self) -> str:
        return str(self.samples_per_agent)


class SamplingRun(models.Model):
    """The month-end draw of one month happened (the job draws each month once; the button may add later)."""

    month = models.DateField(_("月份"), unique=True)  # first day of the month (Beijing)
    at = models.DateTimeField(_("抽检时间"), default=timezone.now)
    created = models.PositiveIntegerField(_("抽取数"), default=0)

    class Meta:
        verbose_name = _("月末抽检")
        verbose_name_plural = _("月末抽检")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class Reason(models.TextChoices):
    RANDOM = "random", _("随机抽检")
    WARNING = "warning", _("用语提醒")
    BLOCKED = "blocked", _("忌语拦截")
    ATTITUDE = "attitude", _("态度投诉")


class Status(models.TextChoices):
    PENDING = "pending", _("待质检")
    SCORED = "scored", _("已评分待确认")
    APPEALED = "appealed", _("申诉中")
    FINAL = "final", _("已定分")


class Inspection(models.Model):
    contact_kind = models.CharField(_("接触类型"), max_length=20)
    contact_id = models.CharField(_("接触编号"), max_length=40)
    contact_label = models.CharField(_("接触"), max_length=60)
    month = models.DateField(_("月份"), db_index=True)  # first day of the month (Beijing)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("坐席"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey("org.Team", verbose_name=_("团队"), on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(
        "org.Province",
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("抽检原因"), max_length=10, choices=Reason.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("抽检时间"), default=timezone.now)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("质检员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    score = models.DecimalField(_("质检得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    comment = models.TextField(_("质检意见"), blank=True)
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("裁定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decision_comment = models.TextField(_("裁定意见"), blank=True)
    final_score = models.DecimalField(_("最终得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("质检")
        verbose_name_plural = _("质检")
        ordering = ["-month", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact_kind", "contact_id"], name="quality_one_per_contact")
        ]
        indexes = [models.Index(fields=["province", "month", "status"], name="quality_scope_idx")]

    def __str__(self) -> str:
        return f"{self.contact_label} {self.get_status_display()}"


class ItemScore(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="item_scores")
    item = models.ForeignKey(ScoreItem, on_delete=models.PROTECT, related_name="+")
    weight = models.PositiveSmallIntegerField(_("分值"))  # the weight when scored (weights can change later)
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)
    note = models.CharField(_("扣分说明"), max_length=200, blank=True)

    scope_field = "inspection__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("评分明细")
        verbose_name_plural = _("评分明细")
        constraints = [models.UniqueConstraint(fields=["inspection", "item"], name="quality_item_once")]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"
