from django.utils.translation import gettext_lazy as _

from kefu.core.audit import register_verbs

register_verbs(
    {
        "user.logged_in": _("登录"),
        "user.password_changed": _("修改密码"),
        "user.deactivated": _("停用账号"),
        "token.issued": _("签发 API 令牌"),
        "token.revoked": _("吊销 API 令牌"),
    }
)
