from django.urls import path

from . import views

app_name = "norms"
urlpatterns = [
    path("", views.index, name="index"),
    path("rules/add/", views.rule_add, name="rule_add"),
    path("rules/remove/", views.rule_remove, name="rule_remove"),
    path("import/", views.import_xlsx, name="import"),
    path("lexicon.xlsx", views.export_xlsx, name="export"),
]
