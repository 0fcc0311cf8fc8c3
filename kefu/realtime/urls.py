from django.urls import path

from . import views

app_name = "realtime"
urlpatterns = [
    path("poll", views.poll, name="poll"),
    path("act", views.act, name="act"),
]
