"""The stored side of the push layer: per-group event log, visitor tokens, allowed origins.

Nothing here knows what an order or a chat is: a group is a name
(``team.12``), an event a code and a JSON payload.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class GroupCursor(models.Model):
    """The last sequence number handed out in one group; locked while the next is taken."""

    group = models.CharField(_("推送组"), max_length=100, unique=True)
    last_seq = models.PositiveBigIntegerField(_("最新序号"), default=0)

    class Meta:
        verbose_name = _("推送组序号")
        verbose_name_plural = _("推送组序号")

    def __str__(self) -> str:
        return f"{self.group}@{self.last_seq}"


class Event(models.Model):
    """One published event, kept for a while so a reconnecting or polling client can catch up."""

    group = models.CharField(_("推送组"), max_length=100)
    seq = models.PositiveBigIntegerField(_("序号"))
    event = models.CharField(_("事件"), max_length=64)
    payload = models.JSONField(_("内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("推送事件")
        verbose_name_plural = _("推送事件")
        constraints = [models.UniqueConstraint(fields=["group", "seq"], name="realtime_event_group_seq")]

    def __str__(self) -> str:
        return f"{self.group}#{self.seq} {self.event}"


class VisitorToken(models.Model):
    """A bearer token for someone who has no account (a chat visitor): it grants exactly ``groups``.

    Only the SHA-256 of the token is stored; the token itself is shown once, to the visitor.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(
        _("用途"), max_length=100
    )  # e.g. "chat.conversation:42", for people reading admin
    groups = models.JSONField(_("可加入的推送组"), default=list)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("访客令牌")
        verbose_name_plural = _("访客令牌")

    def __str__(self) -> str:
        return self.purpose


class AllowedOrigin(models.Model):
    """A site outside this server whose pages may open a visitor socket (the embeddable chat)."""

    origin = models.CharField(
        _("来源"), max_length=200, unique=True, help_text=_("例如 https://www.example.cn")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("允许嵌入的站点")
        verbose_name_plural = _("允许嵌入的站点")
        ordering = ["origin"]

    def __str__(self) -> str:
        return self.origin
