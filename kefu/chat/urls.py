from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/queue/", views.queue, name="queue"),
    path("visit/", views.visit, name="visit"),
    path("embed.js", views.embed_script, name="embed"),
    path("stats/", views.stats, name="stats"),
    path("files/", views.upload, name="upload"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("visitor-files/<int:pk>/", views.visitor_file, name="visitor_file"),
]
