from django.utils.translation import gettext_lazy as _

from kefu.core.registry import NavItem, register_nav

register_nav(NavItem(_("服务规范"), "norms:index", "norms.view", order=55))
