"""Chinese public holidays and make-up working days (调休) from the ``chinese_calendar`` package.

The SLA math reads the ``Holiday`` table only (``calendars.py``); this module keeps
that table in step with the package (maintained upstream from the State Council's
yearly notice), and raises the alarm when next year's notice is missing:

- :func:`refresh` writes, for every year the package covers from ``since_year`` on,
  exactly the package's days off and 调休 workdays (rows of that year that the
  package does not list, e.g. provisional "(暂定)" ones, are removed); every
  change is an audit event. Years the package does not cover are left alone, so
  an administrator's provisional rows stand until the package has the notice.
- :func:`missing_year` names next year when, from November on, neither the package
  nor a confirmed (non-"暂定") row in the table covers it. The daily job logs it,
  mails HQ service once per year through the outbox, and readiness reports it as
  an advisory (``calendar``).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import chinese_calendar
from django.db import transaction

from kefu.core import audit, outbox

from .models import Holiday

log = logging.getLogger(__name__)

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
ALERT_FROM_MONTH = 11  # the notice usually appears in November
MISSING_MAIL = "sla.calendar_missing"


def _package_days() -> dict[date, tuple[str, str]]:
    days: dict[date, tuple[str, str]] = {}
    for day, name in chinese_calendar.constants.holidays.items():
        days[day] = (Holiday.Kind.OFF, NAMES.get(str(name), str(name)))
    for day, name in chinese_calendar.constants.workdays.items():
        days[day] = (Holiday.Kind.WORKDAY, NAMES.get(str(name), str(name)) + "调休")
    return days


def package_years() -> set[int]:
    return {d.year for d in chinese_calendar.constants.holidays}


@transaction.atomic
def refresh(*, since_year: int, actor: Any = None) -> dict[str, int]:
    """Bring the table in line with the package for the years it covers from ``since_year``."""
    wanted = {d: v for d, v in _package_days().items() if d.year >= since_year}
    years = sorted({d.year for d in wanted})
    created = changed = removed = 0
    if not years:
        return {"years": 0, "created": 0, "changed": 0, "removed": 0}
    existing = {h.date: h for h in Holiday.objects.select_for_update().filter(date__year__in=years)}
    for day, (kind, name) in sorted(wanted.items()):
        row = existing.pop(day, None)
        if row is None:
            row = Holiday.objects.create(date=day, kind=kind, name=name[:40])
            created += 1
            audit.record(
                actor=actor,
                verb="sla.holiday_synced",
                target=row,
                data={"date": day.isoformat(), "kind": kind, "name": name, "change": "added"},
            )
        elif (row.kind, row.name) != (kind, name[:40]):
            before = {"kind": row.kind, "name": row.name}
            row.kind, row.name = kind, name[:40]
            row.save(update_fields=["kind", "name"])
            changed += 1
            audit.record(
                actor=actor,
                verb="sla.holiday_synced",
                target=row,
                data={
                    "date": day.isoformat(),
                    "kind": kind,
                    "name": name,
                    "change": "changed",
                    "before": before,
                },
            )
    for row in existing.values():  # in a covered year, but not in the notice
        audit.record(
            actor=actor,
            verb="sla.holiday_synced",
            target=row,
            data={"date": row.date.isoformat(), "kind": row.kind, "name": row.name, "change": "removed"},
        )
        row.delete()
        removed += 1
    return {"years": len(years), "created": created, "changed": changed, "removed": removed}


def missing_year(today: date) -> int | None:
    """Next year, if it is time to have its notice and neither the package nor a confirmed row has it."""
    nxt = today.year + 1
    if today.month < ALERT_FROM_MONTH or nxt in package_years():
        return None
    confirmed = Holiday.objects.filter(date__year=nxt).exclude(name__contains="暂定").exists()
    return None if confirmed else nxt


def alert_if_missing(today: date, hq_emails: list[str]) -> int | None:
    """Log (every run) and mail HQ service (once per year, through the outbox) when next year is missing."""
    year = missing_year(today)
    if year is None:
        return None
    log.warning(
        "holiday calendar: no %s holidays in chinese_calendar %s nor confirmed in the table",
        year,
        getattr(chinese_calendar, "__version__", "?"),
    )
    if hq_emails:
        outbox.enqueue(
            purpose=MISSING_MAIL,
            key=str(year),
            to=hq_emails,
            subject=f"[新视通] {year} 年节假日安排尚未载入，时限计算按周末处理",
            body=(
                f"{year} 年的节假日与调休安排尚未载入(chinese_calendar 包中没有，后台也没有确认的记录)。\n"
                "在载入之前，时限计算把该年的法定节假日当作工作日。请升级 chinesecalendar 包后运行同步，"
                "或在后台“节假日与调休”中录入国务院办公厅通知的安排。\n"
            ),
        )
    return year


def register_mail() -> None:
    from django.utils.translation import gettext_lazy

    outbox.register(MISSING_MAIL, gettext_lazy("节假日数据缺失提醒"))


register_mail()
