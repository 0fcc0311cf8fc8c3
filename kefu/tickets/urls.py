from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("new/", views.create, name="create"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/act/<slug:action>/", views.act, name="act"),
    path("<str:number>/notes/", views.note, name="note"),
    path("<str:number>/files/", views.attach, name="attach"),
    path("<str:number>/files/<int:attachment_id>/", views.download, name="download"),
]
