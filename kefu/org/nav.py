from django.utils.translation import gettext_lazy as _

from kefu.core.registry import NavItem, register_nav

register_nav(NavItem(_("首页"), "home", None, order=0))
register_nav(NavItem(_("API 令牌"), "tokens", "token.manage", order=900))
