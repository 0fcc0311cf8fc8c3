from django.contrib import admin
from django.urls import include, path

from config.api import api
from kefu.core import views as core_views
from kefu.org import views as org_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("", include("kefu.ops.urls")),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("accounts/login/", org_views.login_view, name="login"),
    path("accounts/logout/", org_views.logout_view, name="logout"),
    path("accounts/password/", org_views.password_change, name="password_change"),
    path("accounts/tokens/", org_views.tokens, name="tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", org_views.token_revoke, name="token_revoke"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("kb/", include("kefu.knowledge.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("incidents/", include("kefu.incidents.urls")),
    path("norms/", include("kefu.norms.urls")),
    path("quality/", include("kefu.quality.urls")),
    path("calls/", include("kefu.calls.urls")),
    path("rt/", include("kefu.realtime.urls")),
    path("chat/", include("kefu.chat.urls")),
]

handler404 = "kefu.core.views.page_not_found"
handler500 = "kefu.core.views.server_error"
