from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.board, name="board"),
    path("rates/", views.rates, name="rates"),
    path("policies/", views.policies, name="policies"),
]
