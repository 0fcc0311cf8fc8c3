"""Lines as data: each desk ships with its real access number and a stated basis; admins edit them, audited."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from conftest import login_client
from kefu.calls import services
from kefu.calls.models import Call, CallSource, Line
from kefu.calls.parsers import parse_cti
from kefu.core.models import AuditEvent


def test_desks_ship_with_area_code_numbers_and_a_target_basis_not_placeholders(db):
    desks = Line.objects.unscoped("test").filter(kind=Line.Kind.DESK).select_related("province")
    assert desks.count() == 31
    numbers = {d.province.slug: d.number for d in desks}
    assert (numbers["bj"], numbers["js"], numbers["xj"]) == ("01010000", "02510000", "099110000")
    assert not any(n.startswith("100009") for n in numbers.values())
    assert all(d.access_code == "10000 按 9" and "第七条" in d.target_basis for d in desks)
    hotline = Line.objects.unscoped("test").get(kind=Line.Kind.HOTLINE)
    assert (hotline.number, float(hotline.target_percent)) == ("4009208566", 90.0)


def test_admin_edits_a_desks_number_and_target_audited_and_the_webhook_follows(client, admin_actor):
    line = Line.objects.unscoped("test").get(code="desk_js")
    login_client(client, admin_actor)
    assert client.get("/admin/calls/line/").status_code == 200
    page = client.get(f"/admin/calls/line/{line.pk}/change/")
    assert page.status_code == 200 and "02510000" in page.content.decode()
    form = {
        "code": line.code,
        "name": line.name,
        "kind": line.kind,
        "province": line.province_id,
        "team": line.team_id,
        "is_active": "on",
        "number": "02566610000",
        "access_code": "10000 按 9",
        "queues": line.queues,
        "target_percent": "88.50",
        "answer_seconds": "20",
        "target_basis": "江苏公司一般顾客接通率标准",
        "calendar": line.calendar_id,
    }
    response = client.post(f"/admin/calls/line/{line.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    line.refresh_from_db()
    assert (line.number, float(line.target_percent)) == ("02566610000", 88.5)
    event = AuditEvent.objects.get(verb="config.changed", target_id=str(line.pk))
    assert "number" in event.data["fields"] and "target_percent" in event.data["fields"]
    src = CallSource.objects.create(code="pbx-js", name="JS", auth="hmac", secret="k")
    fact = parse_cti(
        {"event": "newCall", "callId": "js1", "from": "13800138000", "to": "02566610000"},
        received_at=timezone.now() - timedelta(minutes=1),
    )
    services.cti_event_ingest(source=src, fact=fact)
    assert Call.objects.unscoped("test").get(call_id="js1").line_id == line.pk


def test_a_token_is_stored_only_as_its_hash(client, admin_actor):
    login_client(client, admin_actor)
    response = client.post(
        "/admin/calls/callsource/add/",
        {
            "code": "sw",
            "name": "交换机",
            "auth": "token",
            "secret": "",
            "max_events_per_minute": "100",
            "is_active": "on",
            "new_token": "t" * 32,
        },
    )
    assert response.status_code == 302
    src = CallSource.objects.get(code="sw")
    assert src.token_hash == services.token_hash("t" * 32) and "t" * 32 not in str(src.__dict__)
