from django.db import migrations


def create(apps, schema_editor):
    Team = apps.get_model("org", "Team")
    ServiceCalendar = apps.get_model("sla", "ServiceCalendar")
    ChatSettings = apps.get_model("chat", "ChatSettings")
    team = Team.objects.filter(code="online").first()
    calendar = ServiceCalendar.objects.filter(code="7x12").first()
    if team is not None and calendar is not None and not ChatSettings.objects.exists():
        ChatSettings.objects.create(team=team, calendar=calendar)


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial"), ("sla", "0002_seed_calendars_policies")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
