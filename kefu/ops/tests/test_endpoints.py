"""/readyz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from kefu.core.models import JobHeartbeat
from kefu.ops import views
from kefu.org.models import Province, Team
from kefu.sla import services as sla
from kefu.sla.sweep import JOB_NAME

pytestmark = pytest.mark.django_db


def _sweep_beat(age_seconds: float) -> None:
    JobHeartbeat.objects.update_or_create(
        name=JOB_NAME,
        defaults={
            "last_success_at": timezone.now() - timedelta(seconds=age_seconds),
            "expected_every_seconds": 60,
        },
    )


@pytest.fixture(autouse=True)
def _next_year_calendar_confirmed(db):
    """From November /readyz also asks for next year's holidays (tests/test_holiday_source.py);
    these tests are about the database, Redis and the sweep, whatever the date."""
    from kefu.sla.models import Holiday

    nxt = timezone.localdate().year + 1
    Holiday.objects.update_or_create(date=date(nxt, 1, 1), defaults={"kind": "off", "name": "元旦"})


def test_readyz_is_ok_when_the_database_answers_and_the_sweep_is_recent(client):
    _sweep_beat(10)
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "failing": [], "behind": [], "errors": {}}


def test_a_late_sweep_degrades_readiness_and_fails_it_only_when_strict(client):
    _sweep_beat(3600)
    lenient = client.get("/readyz")
    strict = client.get("/readyz?strict=1")
    assert (lenient.status_code, lenient.json()["status"], lenient.json()["behind"]) == (
        200,
        "degraded",
        ["sweep"],
    )
    assert (strict.status_code, strict.json()["status"]) == (503, "unavailable")


def test_a_failing_critical_check_is_503_naming_it(client, monkeypatch):
    monkeypatch.setitem(views.CRITICAL, "database", lambda: "OperationalError")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"] and response["Cache-Control"] == "no-store"


def test_readyz_names_an_unreachable_redis(client, monkeypatch):
    _sweep_beat(10)
    monkeypatch.setenv("HUEY_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failing"] == ["redis"]


def test_an_unreachable_cache_degrades_readiness_without_taking_the_node_out(client, monkeypatch):
    _sweep_beat(10)
    monkeypatch.setenv("KEFU_CACHE_URL", "redis://127.0.0.1:1/2")  # the rate limits' Redis: gone
    response = client.get("/readyz")
    assert (response.status_code, response.json()["status"], response.json()["behind"]) == (
        200,
        "degraded",
        ["cache"],
    )


def test_metrics_are_hidden_from_anyone_without_the_token_or_staff(client, agent_bj, monkeypatch):
    monkeypatch.setenv("KEFU_METRICS_TOKEN", "s3cret-metrics")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    client.force_login(agent_bj.user)
    assert client.get("/metrics").status_code == 404


def test_metrics_count_requests_by_route_and_the_overdue_clocks(client, monkeypatch):
    monkeypatch.setenv("KEFU_METRICS_TOKEN", "s3cret-metrics")
    sla.clock_start(
        owner_type="metrics.hop",
        owner_id=1,
        kind="accept",
        ticket_kind="complaint",
        team=Team.objects.get(code="hotline"),
        province=Province.objects.get(slug="bj"),
        now=timezone.now() - timedelta(days=5),
    )
    from kefu.core import outbox

    outbox.enqueue(
        purpose="metrics.test", key="1", to=["ops@example.cn"], subject="s", body="b", send_after_commit=False
    )
    client.get("/readyz")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").content.decode()
    assert 'kefu_http_requests_total{method="GET",route="/readyz",status="2xx"}' in text
    assert "kefu_sla_clocks_overdue_unswept 1.0" in text
    assert 'kefu_mail_outbox{status="pending"} 1.0' in text
    assert "kefu_queue_pending_tasks" in text
