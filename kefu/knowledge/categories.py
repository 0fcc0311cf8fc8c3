"""Article categories: codes of the work-order taxonomy (第八条), kept here as a small list.

The three-level taxonomy model belongs to the tickets app, which knowledge may
not import. An article stores a ``category_code``; this list gives the codes
and labels the knowledge base offers when nobody has registered better ones.
The tickets app may register its live taxonomy with
``kefu.knowledge.registry.register_category_source`` and then its codes and
labels win (unknown codes on old articles still display as the raw code).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# (code, label) in report order: level 2 "类" then level 3 under it.
DEFAULT_CATEGORIES: list[tuple[str, str | Promise]] = [
    ("activation", _("开通类")),
    ("activation.account_failed", _("开通类 / 业务开户不成功")),
    ("activation.order_failed", _("开通类 / 资源订购不成功")),
    ("activation.tariff_unclear", _("开通类 / 资费未明示")),
    ("activation.start_date_wrong", _("开通类 / 起租时间错误")),
    ("activation.other", _("开通类 / 其他")),
    ("termination", _("业务退租类")),
    ("termination.unsubscribe_failed", _("业务退租类 / 资源退订不成功")),
    ("termination.terminate_failed", _("业务退租类 / 业务退租不成功")),
    ("termination.other", _("业务退租类 / 其他")),
    ("usage", _("使用类")),
    ("usage.login", _("使用类 / 无法正常登录")),
    ("usage.function", _("使用类 / 无法正常使用功能")),
    ("usage.bill", _("使用类 / 账单问题")),
    ("usage.other", _("使用类 / 其他")),
    ("incident", _("突发事件")),
    ("other", _("其他")),
]
