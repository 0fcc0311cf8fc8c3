from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("lookup/", views.lookup, name="lookup"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("contacts/<int:contact_pk>/phones/", views.phone_add, name="phone_add"),
]
