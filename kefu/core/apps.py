from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

AUDIT_TABLE = "core_auditevent"
# What the test runner's flush must take down and put back (migrations core 0002 and 0004).
_GUARD = {
    "sqlite": (
        ["DROP TRIGGER IF EXISTS core_auditevent_no_delete;"],
        [
            "CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END;"
        ],
    ),
    "postgresql": (
        ["ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_truncate;"],
        ["ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_truncate;"],
    ),
}


def _flush_around_the_audit_guard(ops_class: Any, vendor: str) -> None:
    """Tests only: the flush between transactional tests empties the audit table too.

    Production has no such path: ``manage.py flush`` fails on the audit table, and the runtime
    role (not the table's owner) can neither drop nor disable the triggers.
    """
    original = ops_class.sql_flush
    if getattr(original, "_kefu_audit_guard", False):
        return
    before, after = _GUARD[vendor]

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        if AUDIT_TABLE not in tables:
            return statements
        return [*before, *statements, *after]

    sql_flush._kefu_audit_guard = True  # type: ignore[attr-defined]
    ops_class.sql_flush = sql_flush


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        if settings.TESTING:
            from django.db import connections

            for alias in connections:
                connection = connections[alias]
                if connection.vendor in _GUARD:
                    _flush_around_the_audit_guard(type(connection.ops), connection.vendor)
