from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "customer.created": _("新建客户"),
        "customer.updated": _("修改客户资料"),
        "customer.contact_added": _("新增联系人"),
        "customer.contact_updated": _("修改联系人"),
        "customer.phone_added": _("新增联系电话"),
        "customer.phone_removed": _("删除联系电话"),
    }
)
