from django.db import migrations


def load(apps, schema_editor):
    """The 48-hour province policy for complaints an account manager records (docs/tickets.md, item 2)."""
    Policy = apps.get_model("sla", "Policy")
    ServiceCalendar = apps.get_model("sla", "ServiceCalendar")
    calendar = ServiceCalendar.objects.filter(code="7x12").first()
    if calendar is None:
        return
    Policy.objects.get_or_create(
        code="complaint-am-resolve",
        defaults={
            "name": "客户经理：投诉工单 48 小时解决(省公司时限)",
            "target": "resolve",
            "ticket_kind": "complaint",
            "team_kind": "account_managers",
            "duration_minutes": 48 * 60,
            "counting": "natural",
            "calendar": calendar,
            "pause_statuses": ["waiting_customer"],
            "warn_ratio": "0.75",
            "on_time_target": "98.00",
            "rule_ref": "第七条(二)2 工单解决总时限(客户经理协助)",
        },
    )


def unload(apps, schema_editor):
    apps.get_model("sla", "Policy").objects.filter(code="complaint-am-resolve", clocks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0004_alter_policy_on_time_target")]
    operations = [migrations.RunPython(load, unload)]
