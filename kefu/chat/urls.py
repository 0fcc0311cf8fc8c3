from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/queue/", views.queue, name="queue"),
    path("visit/", views.visit, name="visit"),
    path("stats/", views.stats, name="stats"),
]
