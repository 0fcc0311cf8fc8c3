from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "norms.lexicon_published": _("发布服务用语词库新版本"),
    }
)
