"""WebSocket routes. One socket serves every app: apps add actions and group kinds, not routes."""

from __future__ import annotations

from django.urls import path

from .consumers import RealtimeConsumer

websocket_urlpatterns = [
    path("ws/rt/", RealtimeConsumer.as_asgi(), name="realtime_socket"),
]
