from django.db import migrations


def load(apps, schema_editor):
    from kefu.org.data import (
        NATIONAL_TEAMS, NATIONAL_UNITS, PROVINCES, am_team_code, desk_team_code, province_unit_code,
    )

    Province = apps.get_model("org", "Province")
    Unit = apps.get_model("org", "Unit")
    Team = apps.get_model("org", "Team")
    units = {}
    for code, name, kind in NATIONAL_UNITS:
        units[code], _ = Unit.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    for code, name, kind, unit_code in NATIONAL_TEAMS:
        Team.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "unit": units[unit_code]})
    for order, (code, slug, short, full) in enumerate(PROVINCES, start=1):
        province, _ = Province.objects.get_or_create(
            code=code, defaults={"slug": slug, "name": short, "full_name": full, "report_order": order}
        )
        unit, _ = Unit.objects.get_or_create(
            code=province_unit_code(slug),
            defaults={"name": f"{short}分公司", "kind": "province_branch", "province": province},
        )
        Team.objects.get_or_create(
            code=desk_team_code(slug),
            defaults={"name": f"{short}10000+9政企专席", "kind": "province_desk", "unit": unit, "province": province},
        )
        Team.objects.get_or_create(
            code=am_team_code(slug),
            defaults={"name": f"{short}客户经理", "kind": "account_managers", "unit": unit, "province": province},
        )


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
