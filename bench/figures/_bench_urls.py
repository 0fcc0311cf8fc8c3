"""The product's URLs plus /bench/bare: a plain Django view through the same middleware."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare", bare), path("", include("config.urls"))]
