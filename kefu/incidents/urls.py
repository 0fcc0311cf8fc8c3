from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.declare, name="declare"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/update/", views.update, name="update"),
    path("<str:number>/status/", views.set_status, name="status"),
    path("<str:number>/hq-ack/", views.hq_ack, name="hq_ack"),
    path("<str:number>/bulletin/", views.bulletin_issue, name="bulletin"),
    path("<str:number>/bulletin/<int:version>/ack/", views.bulletin_ack, name="bulletin_ack"),
    path("<str:number>/link/", views.link, name="link"),
    path("<str:number>/links/<int:link_id>/unlink/", views.unlink, name="unlink"),
    path("<str:number>/contacts/link/", views.contact_link, name="contact_link"),
    path("<str:number>/contacts/<int:link_id>/unlink/", views.contact_unlink, name="contact_unlink"),
    path("<str:number>/bulk-resolve/", views.bulk_resolve, name="bulk"),
    path("<str:number>/article/", views.article, name="article"),
    path("<str:number>/review/", views.review_page, name="review"),
    path("<str:number>/review.xlsx", views.review_xlsx, name="review_xlsx"),
]
