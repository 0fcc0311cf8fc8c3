from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    """One of the 31 provincial branches' provinces, GB/T 2260 code, standard report order."""

    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    slug = models.SlugField(
        _("简码"), max_length=4, unique=True, help_text=_("ISO 3166-2:CN 小写，如 bj、js")
    )
    name = models.CharField(_("名称"), max_length=20, unique=True)
    full_name = models.CharField(_("全称"), max_length=40)
    report_order = models.PositiveSmallIntegerField(_("报表顺序"), unique=True)

    class Meta:
        verbose_name = _("省份")
        verbose_name_plural = _("省份")
        ordering = ["report_order"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    class Kind(models.TextChoices):
        HQ_SERVICE = "hq_service", _("集团客户服务部")
        HQ_BUSINESS = "hq_business", _("集团政企客户事业部")
        OPERATOR = "operator", _("运营单位")
        PROVINCE_BRANCH = "province_branch", _("省分公司")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    province = models.OneToOneField(
        Province, verbose_name=_("省份"), null=True, blank=True, on_delete=models.PROTECT, related_name="unit"
    )

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["kind", "province__report_order", "code"]
        constraints = [
            models.CheckConstraint(
                name="unit_province_iff_branch",
                condition=(
                    models.Q(kind="province_branch", province__isnull=False)
                    | (~models.Q(kind="province_branch") & models.Q(province__isnull=True))
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    class Kind(models.TextChoices):
        HQ_SERVICE = "hq_service", _("集团客服部")
        HQ_BUSINESS = "hq_business", _("政企事业部")
        KNOWLEDGE = "knowledge", _("知识库编写组")
        HOTLINE = "hotline", _("语音客服(热线)")
        ONLINE = "online", _("在线客服")
        PROVINCE_DESK = "province_desk", _("10000+9政企专席")
        ACCOUNT_MANAGERS = "account_managers", _("客户经理")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="teams")
    # Copied from the unit so that scoping is one column; None = a national team.
    province = models.ForeignKey(
        Province,
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
    )
    email = models.EmailField(_("团队邮箱"), blank=True)

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ["province__report_order", "kind", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_national(self) -> bool:
        return self.province_id is None


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    AGENT = "agent", _("坐席")
    SUPERVISOR = "supervisor", _("班长/主管")
    ACCOUNT_MANAGER = "account_manager", _("客户经理")
    KB_AUTHOR = "kb_author", _("知识编写(运营单位)")
    KB_CONFIRMER = "kb_confirmer", _("知识确认(政企事业部)")
    KB_PUBLISHER = "kb_publisher", _("知识审核发布(集团客服部)")
    ANALYST = "analyst", _("统计分析")
    ADMIN = "admin", _("系统管理员")


class Membership(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("团队"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("成员身份")
        verbose_name_plural = _("成员身份")
        constraints = [models.UniqueConstraint(fields=["user", "team", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A machine client's credential. Only a hash is kept; the token is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("限定团队"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("令牌只拥有用户在该团队中的权限与数据范围"),
    )
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    key_hash = models.CharField(_("摘要"), max_length=64)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginThrottle(models.Model):
    """Failed-login counter per key (username or client address) in a fixed window."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("登录限流")
        verbose_name_plural = _("登录限流")

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
