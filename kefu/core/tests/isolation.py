"""Isolation table for the shell's own routes (see tests/isolation_spec.py)."""

from tests.isolation_spec import AdminOnly, NoObject, Public

ROUTES = {
    "": NoObject("the caller's landing page: panels are built from the caller's own scope"),
    "healthz": Public("load-balancer health check; says nothing but ok"),
    "i18n/setlang/": Public("language switch before or after signing in"),
    "api/": Public("ninja's API root (no data)"),
    "api/openapi.json": Public("the OpenAPI document: schema only, no data"),
    "api/docs": Public("offline API docs: schema only, no data"),
    "admin/": AdminOnly(
        "Django admin for HQ administrators (is_staff); province-owned models use ScopedAdmin"
    ),
}
