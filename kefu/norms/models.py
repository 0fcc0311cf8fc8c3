"""The service-phrase lexicon (服务用语词库), kept by the HQ customer service department.

The lexicon is versioned as a whole: every change publishes a complete new
``LexiconVersion`` with its own effective time, so what an agent was checked
against on any day can be shown later. Versions are never edited or deleted.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PATTERN_MAX = 40
SUGGESTION_MAX = 200
TEMPLATE_MAX = 500


class Category(models.TextChoices):
    BANNED = "banned", _("服务忌语")
    RHETORICAL = "rhetorical", _("反问")
    INTERROGATION = "interrogation", _("质问")
    IMPATIENCE = "impatience", _("不耐烦")
    SHIRKING = "shirking", _("推诿")
    SCOLDING = "scolding", _("斥责、斗气")
    COLLOQUIAL = "colloquial", _("口语化")


class Severity(models.TextChoices):
    BLOCK = "block", _("禁止发送")
    WARN = "warn", _("提醒确认")


class Applies(models.TextChoices):
    ALL = "all", _("全部渠道")
    ONLINE = "online", _("仅在线客服")


class TemplateChannel(models.TextChoices):
    ALL = "all", _("全部渠道")
    HOTLINE = "hotline", _("语音客服")
    ONLINE = "online", _("在线客服")


class TemplatePurpose(models.TextChoices):
    GREETING = "greeting", _("问候")
    APOLOGY = "apology", _("致歉")
    CONFIRM_PROBLEM = "confirm_problem", _("确认问题")
    CLOSING = "closing", _("结束语")
    THANKS = "thanks", _("感谢")
    SILENT_VISITOR = "silent_visitor", _("访客未咨询致谢")


class LexiconVersion(models.Model):
    number = models.PositiveIntegerField(_("版本号"), unique=True)
    effective_from = models.DateTimeField(_("生效时间"), db_index=True)
    created_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # Identifies the compiled form in each process's cache (ids can be reused after a rollback).
    token = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("词库版本")
        verbose_name_plural = _("词库版本")
        ordering = ["-effective_from", "-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class PhraseRule(models.Model):
    """A banned phrase or a discouraged pattern; ``…`` in ``pattern`` stands for up to a few characters."""

    version = models.ForeignKey(LexiconVersion, on_delete=models.CASCADE, related_name="rules")
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    severity = models.CharField(_("处理"), max_length=10, choices=Severity.choices)
    pattern = models.CharField(_("用语或句式"), max_length=PATTERN_MAX)
    suggestion = models.CharField(_("建议规范用语"), max_length=SUGGESTION_MAX)
    applies_to = models.CharField(_("适用渠道"), max_length=10, choices=Applies.choices, default=Applies.ALL)
    exceptions = models.CharField(_("例外词(含此用语的正常词，逗号分隔)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("忌语与不当句式")
        verbose_name_plural = _("忌语与不当句式")
        ordering = ["version", "severity", "category", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "pattern"], name="norms_rule_unique_pattern")
        ]

    def __str__(self) -> str:
        return self.pattern


class PhraseTemplate(models.Model):
    """A standard phrase; ``{number}`` and ``{subject}`` are filled in where a work order is known."""

    version = models.ForeignKey(LexiconVersion, on_delete=models.CASCADE, related_name="templates")
    channel = models.CharField(_("渠道"), max_length=10, choices=TemplateChannel.choices)
    purpose = models.CharField(_("用途"), max_length=20, choices=TemplatePurpose.choices)
    text = models.CharField(_("规范用语"), max_length=TEMPLATE_MAX)

    class Meta:
        verbose_name = _("规范用语模板")
        verbose_name_plural = _("规范用语模板")
        ordering = ["version", "purpose", "channel", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Screening(models.Model):
    """What the check found in a text an agent sent (or tried to send): the record quality inspection samples.

    ``contact_kind``/``contact_id`` name the contact generically (``ticket``, ``chat``, ``call``);
    ``province_code`` is the contact's province ("" for the national teams).
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("渠道"), max_length=10)
    contact_kind = models.CharField(_("接触类型"), max_length=20)
    contact_id = models.CharField(_("接触编号"), max_length=40)
    province_code = models.CharField(_("省份"), max_length=6, blank=True, db_index=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Severity.choices)
    version = models.ForeignKey(LexiconVersion, on_delete=models.PROTECT, related_name="+", null=True)
    hits = models.JSONField(_("命中"), default=list)

    class Meta:
        verbose_name = _("用语检查记录")
        verbose_name_plural = _("用语检查记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["contact_kind", "contact_id"], name="norms_screen_contact_idx")]

    def __str__(self) -> str:
        return f"{self.contact_kind}#{self.contact_id} {self.outcome}"
