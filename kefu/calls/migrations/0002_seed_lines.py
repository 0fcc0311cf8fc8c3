"""The lines as shipped: the hotline 4009208566 (7×12, > 90%) and each province's 10000+9 desk.

Editable in admin afterwards. The desks' numbers here are placeholders of the
form 100009<province code prefix> until each province enters its access number;
their target (85%) stands for the operator's general standard, which 第七条
refers to without a figure.
"""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    Line = apps.get_model("calls", "Line")
    Team = apps.get_model("org", "Team")
    Province = apps.get_model("org", "Province")
    Calendar = apps.get_model("sla", "ServiceCalendar")
    CallSource = apps.get_model("calls", "CallSource")
    calendar = Calendar.objects.filter(code="7x12").first()
    if calendar is None:
        return
    hotline = Team.objects.filter(code="hotline").first()
    if hotline is not None:
        Line.objects.get_or_create(code="hotline", defaults=dict(
            name="新视通热线 4009208566", kind="hotline", number="4009208566", queues="hotline,4009208566",
            team=hotline, calendar=calendar, target_percent=Decimal("90.00")))
    for province in Province.objects.all():
        team = Team.objects.filter(code=f"desk_{province.slug}").first()
        if team is None:
            continue
        Line.objects.get_or_create(code=f"desk_{province.slug}", defaults=dict(
            name=f"{province.name} 10000+9 政企专席", kind="desk", number=f"100009{province.code[:2]}",
            queues=f"desk_{province.slug}", province=province, team=team, calendar=calendar,
            target_percent=Decimal("85.00")))
    CallSource.objects.get_or_create(code="asterisk", defaults=dict(name="Asterisk 文件导入", auth="token"))
    CallSource.objects.get_or_create(code="sheet", defaults=dict(name="交换机表格导入", auth="token"))


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
