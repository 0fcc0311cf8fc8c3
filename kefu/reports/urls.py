from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("charts/<slug:name>.svg", views.chart, name="chart"),
    path("monthly/", views.monthly, name="monthly"),
    path("monthly/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("monthly/export.csv", views.export_csv, name="export_csv"),
    path("monthly/<slug:province>/", views.monthly, name="monthly_province"),
    path("monthly/<slug:province>/export.xlsx", views.export_xlsx, name="export_xlsx_province"),
    path("monthly/<slug:province>/export.csv", views.export_csv, name="export_csv_province"),
    path("service-level/", views.service_level_page, name="service_level"),
    path("mail/", views.mail_page, name="mail"),
    path("mail/retry/", views.mail_retry, name="mail_retry"),
]
