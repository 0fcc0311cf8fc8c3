"""Reads: clocks for display, supervisors' lists, notices. Province-scoped where a person asks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.scope import Scope

from .calendar_math import service_seconds_between
from .calendars import SpecCache
from .models import Clock, Notice

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class ClockInfo:
    clock: Clock
    state: str  # "overdue", "at_risk", "running", "paused", "met", "late", "handed_over"
    service_seconds_left: int | None  # service time until due (negative = overdue); None when not running
    seconds_left: int | None  # natural time until due

    @property
    def sort_key(self) -> tuple[int, datetime | None]:
        due = self.clock.due_at
        return (0 if due is not None and self.clock.status == Clock.Status.RUNNING else 1, due)

    @property
    def badge(self) -> str:
        return {"overdue": "danger", "late": "danger", "at_risk": "warn", "met": "ok"}.get(self.state, "")

    @property
    def left_seconds(self) -> int | None:
        """Time left in the clock's own unit: service time for a service-hours clock (the 2-hour
        accept clock), natural time for the 24/48-hour clocks. Negative = overdue."""
        if self.clock.status != Clock.Status.RUNNING:
            return self.service_seconds_left  # paused: the remainder, already in the clock's unit
        return self.service_seconds_left if self.clock.service_hours else self.seconds_left

    @property
    def left_display(self) -> str:
        due = self.clock.due_at if self.clock.status == Clock.Status.RUNNING else None
        return describe_left(self.left_seconds, due, service_hours=self.clock.service_hours)


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def _hours_minutes(seconds: int) -> str:
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)d 小时") % {"h": hours}
    return _("%(m)d 分") % {"m": minutes}


def describe_left(seconds: int | None, due_at: datetime | None, *, service_hours: bool) -> str:
    """ "剩余 47 小时 59 分 · 截止 12-05 09:00 北京时间" or "已超时 3 小时 · 截止 …". Pure.

    ``seconds`` is in the clock's own unit (service hours are said so); the due time is
    always shown in Beijing time, whatever the server's zone.
    """
    if seconds is None:
        return ""
    unit = _("(服务时间)") if service_hours else ""
    if seconds < 0:
        text = _("已超时 %(d)s") % {"d": _hours_minutes(seconds)}
    else:
        text = _("剩余 %(d)s%(unit)s") % {"d": _hours_minutes(seconds), "unit": unit}
    if due_at is not None:
        local = due_at.astimezone(BEIJING)
        text += " · " + _("截止 %(at)s 北京时间") % {"at": local.strftime("%m-%d %H:%M")}
    return str(text)


def clock_info(clock: Clock, now: datetime, specs: SpecCache) -> ClockInfo:
    if clock.status != Clock.Status.RUNNING or clock.due_at is None:
        state = clock.status if clock.status == Clock.Status.PAUSED else (clock.outcome or clock.status)
        left = clock.remaining_seconds if clock.status == Clock.Status.PAUSED else None
        return ClockInfo(clock=clock, state=str(state), service_seconds_left=left, seconds_left=None)
    service_left = service_seconds_between(specs.get(clock.calendar_id), now, clock.due_at)
    natural_left = int((clock.due_at - now).total_seconds())
    if natural_left < 0:
        state = "overdue"
    elif clock.warned_at is not None or (clock.warn_at is not None and clock.warn_at <= now):
        state = "at_risk"
    else:
        state = "running"
    return ClockInfo(clock=clock, state=state, service_seconds_left=service_left, seconds_left=natural_left)


def clocks_for(owner_type: str, owner_ids: Iterable[int], *, now: datetime | None = None) -> list[ClockInfo]:
    """Every clock of some owners, nearest deadline first, for display on the order page.

    The caller passes owner ids it already resolved through its own scoped
    selectors (a hop of an order the actor may see), so no scope is applied here.
    """
    now = now or timezone.now()
    rows = (
        Clock.objects.unscoped("owner ids come from the caller's scoped selector")
        .filter(owner_type=owner_type, owner_id__in=list(owner_ids))
        .select_related("team")
    )
    specs = SpecCache()
    infos = [clock_info(c, now, specs) for c in rows]
    infos.sort(key=lambda i: (i.sort_key[0], i.sort_key[1] or now, i.clock.pk))
    return infos


def clock_of(owner_type: str, owner_id: int, kind: str) -> Clock | None:
    """One owner's clock of a kind; the caller resolved the owner through its own scope."""
    return (
        Clock.objects.unscoped("owner id comes from the caller's scoped selector")
        .filter(owner_type=owner_type, owner_id=owner_id, kind=kind)
        .first()
    )


def next_due_subquery(owner_type: str, outer_ref: str = "pk") -> Subquery:
    """The nearest deadline of an owner's running clocks, to annotate a queue and order by it.

    ``Hop.objects.annotate(sla_due=next_due_subquery("tickets.hop")).order_by(F("sla_due").asc(nulls_last=True))``
    """
    qs = (
        Clock.objects.unscoped("correlated subquery inside the caller's scoped query")
        .filter(owner_type=owner_type, owner_id=OuterRef(outer_ref), status=Clock.Status.RUNNING)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return Subquery(qs)


def running_clocks(scope: Scope, *, where: Q | None = None) -> QuerySet[Clock]:
    qs = Clock.objects.scoped(scope).filter(status=Clock.Status.RUNNING)
    if where is not None:
        qs = qs.filter(where)
    return qs.select_related("team", "province")


def overdue_clocks(scope: Scope, *, now: datetime, where: Q | None = None) -> QuerySet[Clock]:
    return running_clocks(scope, where=where).filter(due_at__lte=now).order_by("due_at", "id")


def at_risk_clocks(scope: Scope, *, now: datetime, where: Q | None = None) -> QuerySet[Clock]:
    """Running clocks past their warning point but not yet due."""
    return (
        running_clocks(scope, where=where)
        .filter(due_at__gt=now)
        .filter(Q(warned_at__isnull=False) | Q(warn_at__lte=now))
        .order_by("due_at", "id")
    )


def overdue(scope: Scope, *, now: datetime, where: Q | None = None, limit: int = 200) -> list[ClockInfo]:
    specs = SpecCache()
    return [clock_info(c, now, specs) for c in overdue_clocks(scope, now=now, where=where)[:limit]]


def at_risk(scope: Scope, *, now: datetime, where: Q | None = None, limit: int = 200) -> list[ClockInfo]:
    specs = SpecCache()
    return [clock_info(c, now, specs) for c in at_risk_clocks(scope, now=now, where=where)[:limit]]


def notices_for(actor: Any, *, limit: int = 50) -> QuerySet[Notice]:
    """Warnings and breaches the actor should see: their own teams', or all in scope for a supervisor."""
    return (
        Notice.objects.scoped(actor.scope).filter(visible(actor)).select_related("team", "province")[:limit]
    )


def owner_links(items: Iterable[Any]) -> dict[tuple[str, int], tuple[str, str]]:
    """``{(owner_type, owner_id): (label, url)}`` for clocks or notices, one registry call per owner type."""
    from . import registry

    by_type: dict[str, set[int]] = {}
    for item in items:
        by_type.setdefault(item.owner_type, set()).add(item.owner_id)
    links: dict[tuple[str, int], tuple[str, str]] = {}
    for owner_type, ids in by_type.items():
        for owner_id, link in registry.owner_links(owner_type, ids).items():
            links[(owner_type, owner_id)] = link
    return links


def _link(links: dict[tuple[str, int], tuple[str, str]], item: Any) -> tuple[str, str]:
    return links.get((item.owner_type, item.owner_id), (f"{item.owner_type}#{item.owner_id}", ""))


def annotate_links(infos: list[ClockInfo]) -> list[dict[str, Any]]:
    """Rows for a template: each clock with the owner's label and URL from the registry."""
    links = owner_links(info.clock for info in infos)
    rows = []
    for info in infos:
        label, url = _link(links, info.clock)
        rows.append({"info": info, "clock": info.clock, "label": label, "url": url})
    return rows


def notice_rows(notices: Iterable[Notice]) -> list[dict[str, Any]]:
    """Notices with the owner's label and URL (the work-order number, not ``tickets.hop#58``)."""
    notices = list(notices)
    links = owner_links(notices)
    return [dict(zip(("label", "url"), _link(links, n), strict=True), notice=n) for n in notices]


WIDE_PERMISSIONS = ("ticket.supervise", "reports.view")


def visible(actor: Any) -> Q:
    """The clocks and notices (both have ``team`` and ``province``) a person is shown, seat by seat.

    A supervisor's or analyst's seat shows every team's rows of the seat's
    province (all provinces for a national seat); any other seat shows its own
    team's rows. Decided per seat, never from the union of permissions and the
    union of provinces: a Beijing supervisor who also works hotline shifts sees
    Beijing and the hotline's own clocks, not Shanghai's desk. Applied on top
    of ``actor.scope``.
    """
    wide = {seat for perm in WIDE_PERMISSIONS for seat in actor.seats_with(perm)}
    where = Q(pk__in=[])
    for seat in actor.seats:
        if seat in wide:
            if seat.province_id is None:
                return Q()
            where |= Q(province_id=seat.province_id)
        else:
            where |= Q(team_id=seat.team_id)
    return where


def policies_and_calendars() -> dict[str, Any]:
    from .models import Holiday, Policy, ServiceCalendar

    return {
        "policies": Policy.objects.filter(is_active=True).select_related("calendar"),
        "calendars": ServiceCalendar.objects.prefetch_related("hours"),
        "holidays": Holiday.objects.all(),
    }
