"""The embeddable script and the allowed origins (admin → 允许嵌入的站点) on every way in."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.chat.models import Conversation
from kefu.realtime.models import AllowedOrigin, VisitorToken

pytestmark = pytest.mark.django_db

PARTNER = "https://www.partner.example.cn"
EVIL = "https://evil.example.com"


@pytest.fixture
def partner(db):
    return AllowedOrigin.objects.create(origin=PARTNER)


def start(origin: str) -> Client:
    return Client().post(
        "/rt/act",
        data=json.dumps({"type": "chat.start", "name": "嵌入访客", "text": "你好"}),
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )


def test_embed_script_is_served_at_a_stable_address():
    r = Client().get("/chat/embed.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    body = r.content.decode()
    assert "/chat/visit/?embed=1" in body and "ev.origin !== base" in body
    assert r["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_the_visit_page_may_be_framed_only_by_allowed_sites(partner):
    AllowedOrigin.objects.create(origin="https://old.partner.example.cn", is_active=False)
    csp = Client().get("/chat/visit/?embed=1")["Content-Security-Policy"]
    ancestors = next(d for d in csp.split(";") if "frame-ancestors" in d).split()
    assert ancestors == ["frame-ancestors", "'self'", PARTNER]
    assert "img-src 'self' data: blob:" in csp


def test_a_page_on_a_non_allowed_origin_is_refused_over_http(on_duty, partner):
    refused = start(EVIL)
    assert refused.status_code == 403 and refused.json()["code"] == "origin_refused"
    assert Conversation.objects.count() == 0 and VisitorToken.objects.count() == 0
    ok = start(PARTNER)
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == PARTNER
    data = ok.json()["data"]
    # the token works from the allowed site; the same token from a foreign page is refused
    up = Client().post(
        "/chat/files/",
        {
            "conversation": str(data["conversation"]),
            "client_id": "x",
            "file": SimpleUploadedFile("a.txt", b"hello"),
        },
        HTTP_X_KEFU_TOKEN=data["token"],
        HTTP_ORIGIN=EVIL,
    )
    assert up.status_code == 403 and up.json()["code"] == "origin_refused"
    poll = Client().get(
        f"/rt/poll?g=chat.{data['conversation']}:0", HTTP_X_KEFU_TOKEN=data["token"], HTTP_ORIGIN=EVIL
    )
    assert poll.status_code == 403
    assert Conversation.objects.count() == 1


# The socket side (a foreign Origin closed with 4403, an allowed one served without the session
# cookie): kefu/realtime/tests/test_protocol.py::test_foreign_origin_is_refused_and_an_embedding_origin_gets_no_session
