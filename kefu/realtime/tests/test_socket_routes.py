"""The isolation meta-test's counterpart for WebSocket routes: every socket route is declared."""

from __future__ import annotations

from kefu.realtime.routing import websocket_urlpatterns

from .isolation import SOCKET_ROUTES


def test_every_socket_route_is_declared_and_no_entry_is_stale():
    routes = {str(p.pattern) for p in websocket_urlpatterns}
    assert routes == set(SOCKET_ROUTES), (routes, set(SOCKET_ROUTES))
