"""Article categories: codes of the work-order taxonomy (第八条).

The taxonomy model belongs to the tickets app, which knowledge may not import.
An article stores a ``category_code``. The tickets app registers its live
taxonomy with ``kefu.knowledge.registry.register_category_source`` (done in its
``AppConfig.ready``), and then those codes and labels are offered. This list is
the fallback with the same codes as the tickets app's seed (migration
``tickets/0002``), so an installation without the tickets app still works.
A category filter matches the code and every code under it (prefix).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DEFAULT_CATEGORIES: list[tuple[str, str | Promise]] = [
    ("cf_activation_account", _("投诉/故障 / 开通类 / 业务开户不成功")),
    ("cf_activation_order", _("投诉/故障 / 开通类 / 资源订购不成功")),
    ("cf_activation_tariff", _("投诉/故障 / 开通类 / 资费未明示")),
    ("cf_activation_start", _("投诉/故障 / 开通类 / 起租时间错误")),
    ("cf_activation_other", _("投诉/故障 / 开通类 / 其他")),
    ("cf_termination_resource", _("投诉/故障 / 业务退租类 / 资源退订不成功")),
    ("cf_termination_business", _("投诉/故障 / 业务退租类 / 业务退租不成功")),
    ("cf_termination_other", _("投诉/故障 / 业务退租类 / 其他")),
    ("cf_usage_login", _("投诉/故障 / 使用类 / 无法正常登录")),
    ("cf_usage_function", _("投诉/故障 / 使用类 / 无法正常使用功能")),
    ("cf_usage_bill", _("投诉/故障 / 使用类 / 账单问题投诉")),
    ("cf_usage_other", _("投诉/故障 / 使用类 / 其他")),
    ("cf_incident", _("投诉/故障 / 突发事件")),
    ("cf_other", _("投诉/故障 / 其他")),
    ("consult", _("咨询")),
]
