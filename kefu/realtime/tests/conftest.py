from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from config.asgi import application
from kefu.realtime import consumers


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    consumers._open_per_address.clear()
    yield
    cache.clear()


def session_headers(user: Any | None, origin: str = "http://testserver") -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin.encode())] if origin else []
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


async def open_socket(
    headers: list[tuple[bytes, bytes]], address: str = "10.0.0.1"
) -> tuple[WebsocketCommunicator, dict]:
    comm = WebsocketCommunicator(application, "/ws/rt/", headers=headers)
    comm.scope["client"] = (address, 50000)
    connected, _ = await comm.connect()
    assert connected
    hello = json.loads(await comm.receive_from())
    return comm, hello


async def frames(comm: WebsocketCommunicator, n: int, timeout: float = 2) -> list[dict]:
    return [json.loads(await comm.receive_from(timeout=timeout)) for _ in range(n)]


async def send(comm: WebsocketCommunicator, frame: dict) -> None:
    await comm.send_to(text_data=json.dumps(frame))
