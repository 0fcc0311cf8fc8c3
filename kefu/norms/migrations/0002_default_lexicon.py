"""Load the default lexicon as version 1 (effective at once); HQ edits it on the lexicon page."""

from django.db import migrations
from django.utils import timezone

from kefu.norms.defaults import RULES, TEMPLATES


def load(apps, schema_editor):
    Version = apps.get_model("norms", "LexiconVersion")
    Rule = apps.get_model("norms", "PhraseRule")
    Template = apps.get_model("norms", "PhraseTemplate")
    if Version.objects.exists():
        return
    now = timezone.now()
    version = Version.objects.create(number=1, effective_from=now, created_at=now, note="默认词库")
    Rule.objects.bulk_create([
        Rule(version=version, category=c, severity=s, pattern=p, suggestion=g, applies_to=a, exceptions=e)
        for c, s, p, g, a, e in RULES
    ])
    Template.objects.bulk_create([Template(version=version, channel=ch, purpose=pu, text=t) for ch, pu, t in TEMPLATES])


def unload(apps, schema_editor):
    apps.get_model("norms", "LexiconVersion").objects.filter(number=1, note="默认词库").delete()


class Migration(migrations.Migration):
    dependencies = [("norms", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
