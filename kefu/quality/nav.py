from django.utils.translation import gettext_lazy as _

from kefu.core.registry import NavItem, register_nav

register_nav(NavItem(_("质检"), "quality:index", "quality.view", order=56))
