"""The audit trail refuses DELETE on both databases and TRUNCATE on PostgreSQL (issue #15.7).

0002 refused UPDATE (and DELETE on PostgreSQL only). Now:

* SQLite: a BEFORE DELETE trigger, as for UPDATE;
* PostgreSQL: a statement-level BEFORE TRUNCATE trigger beside the row trigger.

Only the table's owner (the migration role, docs/deploy.md) can drop or disable a trigger; the
runtime role is not the owner. The test suite's own flush between transactional tests takes the
guard down and puts it back in the same statement list (kefu.core.apps), which also needs the owner.
"""

from django.db import migrations

PG_FORWARD = """
CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""
PG_BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"

SQLITE_FORWARD = """
CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_no_delete;"


def forward(apps, schema_editor):
    sql = PG_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    schema_editor.execute(sql)


def backward(apps, schema_editor):
    sql = PG_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_job_lease")]
    operations = [migrations.RunPython(forward, backward)]
