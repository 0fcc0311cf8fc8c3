from datetime import time

from django.db import migrations


def load(apps, schema_editor):
    from kefu.sla.data import CALENDARS, HOLIDAYS, POLICIES

    ServiceCalendar = apps.get_model("sla", "ServiceCalendar")
    ServiceHours = apps.get_model("sla", "ServiceHours")
    Holiday = apps.get_model("sla", "Holiday")
    Policy = apps.get_model("sla", "Policy")
    calendars = {}
    for code, name, observes, hours in CALENDARS:
        cal, created = ServiceCalendar.objects.get_or_create(
            code=code, defaults={"name": name, "observes_holidays": observes, "timezone": "Asia/Shanghai"}
        )
        calendars[code] = cal
        if created:
            for weekday, (opens, closes) in hours.items():
                ServiceHours.objects.create(
                    calendar=cal, weekday=weekday,
                    opens=time.fromisoformat(opens), closes=time.fromisoformat(closes),
                )
    for name, off_days, workdays in HOLIDAYS:
        for day in off_days:
            Holiday.objects.get_or_create(date=day, defaults={"kind": "off", "name": name})
        for day in workdays:
            Holiday.objects.get_or_create(date=day, defaults={"kind": "workday", "name": f"{name}调休"})
    for code, name, target, ticket_kind, team_kind, minutes, counting, cal, pauses, rule in POLICIES:
        Policy.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "target": target, "ticket_kind": ticket_kind, "team_kind": team_kind,
                "duration_minutes": minutes, "counting": counting, "calendar": calendars[cal],
                "pause_statuses": pauses, "warn_ratio": "0.75", "on_time_target": "98.00", "rule_ref": rule,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
