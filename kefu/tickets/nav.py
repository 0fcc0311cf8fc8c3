from django.utils.translation import gettext_lazy as _

from kefu.core.registry import NavItem, register_nav

register_nav(NavItem(_("工单工作台"), "tickets:workbench", "ticket.view", order=10))
register_nav(NavItem(_("登记工单"), "tickets:create", "ticket.create", order=11))
