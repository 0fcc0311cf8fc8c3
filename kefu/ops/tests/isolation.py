"""Isolation table for the operators' endpoints (see tests/isolation_spec.py)."""

from tests.isolation_spec import Public

ROUTES = {
    "readyz": Public("load-balancer readiness: names failing checks, no data"),
    "metrics": Public(
        "Prometheus metrics: national counts only, for a bearer token or staff; 404 for anyone else"
    ),
}
