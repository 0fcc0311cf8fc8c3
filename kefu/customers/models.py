"""Enterprise customers (政企客户), their contacts and the contacts' phone numbers.

All three are province-owned: a customer belongs to one province and its
contacts and phones follow it through ``scope_field``, so that moving a
customer between provinces can never leave a child behind in the old one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scope import ProvinceScopedManager


class Industry(models.TextChoices):
    GOVERNMENT = "government", _("党政机关")
    HEALTHCARE = "healthcare", _("医疗卫生")
    EDUCATION = "education", _("教育")
    FINANCE = "finance", _("金融")
    ENTERPRISE = "enterprise", _("企业")
    PUBLIC_SERVICE = "public_service", _("公共事业")
    OTHER = "other", _("其他")


class Customer(models.Model):
    """An enterprise customer account of 新视通(4G版)."""

    # db_index: on PostgreSQL Django adds a varchar_pattern_ops twin, so name-prefix lookups use an index.
    name = models.CharField(_("客户名称"), max_length=120, db_index=True)
    account_number = models.CharField(_("客户账号"), max_length=32, unique=True)
    province = models.ForeignKey(
        "org.Province", verbose_name=_("省份"), on_delete=models.PROTECT, related_name="customers"
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_customers",
    )
    industry = models.CharField(_("行业"), max_length=20, choices=Industry.choices, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("在网"), default=True)
    # Optimistic concurrency: every write bumps it; an edit carrying an older one is refused.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["province__report_order", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.account_number}）"


class Contact(models.Model):
    """A person at a customer who calls or chats with the service."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=60)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    is_primary = models.BooleanField(_("主联系人"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_field = "customer__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "name", "id"]
        constraints = [
            # At most one primary contact per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("手机")
    LANDLINE = "landline", _("固定电话")
    SERVICE = "service", _("400/800 号码")


class ContactPhone(models.Model):
    """One phone number of a contact, stored in the canonical form of ``phones.normalize_phone``."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("联系人"), on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("号码"), max_length=16, db_index=True)
    kind = models.CharField(_("类型"), max_length=10, choices=PhoneKind.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    scope_field = "contact__customer__province"
    objects = ProvinceScopedManager()

    class Meta:
        verbose_name = _("联系电话")
        verbose_name_plural = _("联系电话")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="contactphone_unique_per_contact"),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        """As people read it: 138 0013 8000, 010-65528899."""
        from .phones import format_phone

        return format_phone(self.number)
