from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("", views.call_list, name="list"),
    path("export.xlsx", views.call_list_xlsx, name="list_xlsx"),
    path("<int:pk>/", views.call_detail, name="detail"),
    path("<int:pk>/card/", views.pop_card, name="card"),
    path("<int:pk>/ticket/", views.create_ticket, name="create_ticket"),
    path("desk/", views.agent_desk, name="desk"),
    path("desk/pops/", views.pops_poll, name="pops"),
    path("live/", views.live_panel, name="live"),
    path("rates/", views.rates_page, name="rates"),
    path("rates.xlsx", views.rates_xlsx, name="rates_xlsx"),
    path("import/", views.import_files, name="import"),
    path("cti/<slug:source>/", views.cti_webhook, name="cti"),
]
