"""Move the mail still to be sent from the two old outboxes (reports, incidents) into the one outbox."""

from django.db import migrations

OPEN = ("pending", "retrying", "sending", "failed")


def forward(apps, schema_editor):
    OutboxMail = apps.get_model("core", "OutboxMail")
    Reports = apps.get_model("reports", "OutboundMail")
    for m in Reports.objects.filter(status__in=OPEN):
        OutboxMail.objects.get_or_create(
            purpose="reports.monthly",
            key=f"{m.report}:{m.month:%Y-%m}:{m.recipient_id}",
            defaults={
                "to": [m.email],
                "data": {"outbound_id": m.pk},
                "ref": f"reports.outboundmail:{m.pk}",
                "status": "pending" if m.status == "sending" else m.status,
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "last_error": m.last_error,
                "created_at": m.created_at,
            },
        )
    Incidents = apps.get_model("incidents", "Mail")
    for m in Incidents.objects.filter(status__in=OPEN):
        OutboxMail.objects.get_or_create(
            purpose=f"incidents.{m.purpose}",
            key=f"legacy:{m.pk}",
            defaults={
                "to": [m.email],
                "subject": m.subject,
                "body": m.body,
                "data": {"incident_id": m.incident_id},
                "ref": f"incident:{m.incident_id}",
                "status": m.status,
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "last_error": m.last_error,
                "created_at": m.created_at,
            },
        )
    # The old incident rows are history now: nothing sends them any more.
    Incidents.objects.filter(status__in=OPEN).update(status="failed", last_error="已移入统一发件箱 / moved to core outbox")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_outbox"),
        ("reports", "0001_initial"),
        ("incidents", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
