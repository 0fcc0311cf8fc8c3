"""The only writers of incidents: declare, update, status, HQ notice, bulletins and receipts, links.

Every function is atomic, locks the incident row it changes, writes one audit
event and one timeline entry, and sends mail after commit through the incident
outbox (``Mail``; ``mail.send_due``). The bulk reply and resolution of linked
orders lives in ``bulk.py``; the urgent knowledge article in ``articles.py``.

Who may do what (kefu/org/roles.py, plus the seat): an incident is declared and
updated by a national seat of the operating unit (knowledge, hotline, online
teams) or HQ service (``incident.declare``); a bulletin is issued by HQ service
(``incident.relay`` in the ``hq_service`` team); a receipt is acknowledged by a
member of the addressed team (``incident.ack``); orders are linked by those
who work orders in the order's province (``incident.link``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kefu.core import audit
from kefu.core.codes import CoreCode
from kefu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kefu.incidents.codes import IncidentCode
from kefu.org.access import Actor, Seat
from kefu.org.models import Membership, Province, Team
from kefu.tickets.models import Category, Ticket

from . import mail, push, selectors, workflow
from .models import Bulletin, Impact, Incident, Link, Receipt, Status, Update

DECLARING_TEAM_KINDS = frozenset(
    {Team.Kind.HQ_SERVICE, Team.Kind.KNOWLEDGE, Team.Kind.HOTLINE, Team.Kind.ONLINE}
)
ADDRESSED_NATIONAL_TEAMS = (Team.Kind.HOTLINE, Team.Kind.ONLINE)
_WHY = "incident services: rows locked or counted by id after a scoped fetch"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _user(actor: Actor | None) -> Any:
    return actor.user if actor is not None and actor.user.pk else None


def _text(value: str, field: str, label: str, *, required: bool = True, limit: int = 5000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(
            f"请填写{label}。", f"{field} is required.", fields=[{"field": field, "type": "required"}]
        )
    if len(value) > limit:
        raise ValidationFailed(
            f"{label}过长(最多 {limit} 字)。",
            f"{field} is longer than {limit} characters.",
            fields=[{"field": field, "type": "too_long"}],
        )
    if "\x00" in value:
        raise ValidationFailed(
            f"{label}含非法字符。",
            f"{field} contains a NUL character.",
            fields=[{"field": field, "type": "invalid"}],
        )
    return value


def _audit(actor: Actor | None, verb: str, incident: Incident, unit_code: str = "", **data: Any) -> None:
    audit.record(
        actor=_user(actor),
        verb=verb,
        target=incident,
        data={"number": incident.number, "status": incident.status, **data},
        unit_code=unit_code or (actor.unit_code if actor is not None else ""),
    )


def _timeline(
    incident: Incident,
    kind: str,
    now: datetime,
    actor: Actor | None,
    body: str = "",
    status_from: str = "",
    status_to: str = "",
) -> Update:
    return Update.objects.create(
        incident=incident,
        kind=kind,
        at=now,
        author=_user(actor),
        body=body,
        status_from=status_from,
        status_to=status_to,
    )


def _lock(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().filter(pk=incident.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _bump(incident: Incident, *fields: str) -> None:
    incident.version += 1
    incident.save(update_fields=[*fields, "version"])


def managing_seat(actor: Actor) -> Seat:
    """The national seat an incident is declared or updated from (operating unit or HQ service)."""
    actor.require("incident.declare")
    for seat in actor.seats_with("incident.declare"):
        if seat.province_id is None and seat.team_kind in DECLARING_TEAM_KINDS:
            return seat
    raise Forbidden(
        "平台突发事件由运营单位、热线班长或集团客服部宣告与更新，省分公司不能操作。",
        "Incidents are declared and updated by the operating unit, the hotline lead or HQ service.",
        code=IncidentCode.PERMISSION_DENIED,
        details={"permission": "incident.declare"},
    )


def relay_seat(actor: Actor) -> Seat:
    actor.require("incident.relay")
    for seat in actor.seats_with("incident.relay"):
        if seat.team_kind == Team.Kind.HQ_SERVICE:
            return seat
    raise Forbidden(
        "事件通报由集团客服部下发。",
        "Bulletins are issued by HQ service.",
        code=IncidentCode.PERMISSION_DENIED,
        details={"permission": "incident.relay"},
    )


def _hq_seat(actor: Actor) -> Seat:
    for seat in actor.seats:
        if seat.team_kind == Team.Kind.HQ_SERVICE:
            return seat
    raise Forbidden(
        "只有集团客服部可以确认收到事件报告。",
        "Only HQ service acknowledges the incident report.",
        code=IncidentCode.PERMISSION_DENIED,
    )


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise Conflict(
            f"事件 {incident.number} 已{Status(incident.status).label}，不能再执行此操作。",
            f"Incident {incident.number} is {incident.status}; this action needs an open incident.",
            code=IncidentCode.INCIDENT_CLOSED,
            details={"status": incident.status},
        )


# -- declare -----------------------------------------------------------------------------


def _check_times(
    started_at: datetime | None, detected_at: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    errors = []
    if started_at is None:
        errors.append({"field": "started_at", "type": "required"})
    if detected_at is None:
        errors.append({"field": "detected_at", "type": "required"})
    if errors:
        raise ValidationFailed(
            "请填写故障开始时间和发现时间。", "started_at and detected_at are required.", fields=errors
        )
    assert started_at is not None and detected_at is not None  # for mypy: checked just above
    if started_at > now:
        raise ValidationFailed(
            "故障开始时间不能晚于当前时间。",
            "The start time cannot be in the future.",
            fields=[{"field": "started_at", "type": "future"}],
        )
    if detected_at > now:
        raise ValidationFailed(
            "发现时间不能晚于当前时间。",
            "The detection time cannot be in the future.",
            fields=[{"field": "detected_at", "type": "future"}],
        )
    if detected_at < started_at:
        raise ValidationFailed(
            "发现时间不能早于故障开始时间。",
            "The detection time cannot be before the start.",
            fields=[{"field": "detected_at", "type": "before_start"}],
        )
    return started_at, detected_at


def _provinces(all_provinces: bool, slugs: Sequence[str]) -> list[Province]:
    if all_provinces:
        return []
    wanted = sorted({s.strip().lower() for s in slugs if s and s.strip()})
    if not wanted:
        raise ValidationFailed(
            "请选择受影响的省份(或选择全国)。",
            "Choose the affected provinces (or all).",
            fields=[{"field": "provinces", "type": "required"}],
        )
    found = list(Province.objects.filter(slug__in=wanted).order_by("report_order"))
    unknown = sorted(set(wanted) - {p.slug for p in found})
    if unknown:
        raise ValidationFailed(
            f"未知的省份：{'、'.join(unknown)}。",
            f"Unknown provinces: {', '.join(unknown)}.",
            fields=[{"field": "provinces", "type": "unknown", "values": unknown}],
        )
    return found


def _categories(codes: Sequence[str]) -> list[Category]:
    wanted = sorted({c.strip() for c in codes if c and c.strip()})
    found = list(Category.objects.filter(code__in=wanted))
    unknown = sorted(set(wanted) - {c.code for c in found})
    if unknown:
        raise ValidationFailed(
            f"未知的工单分类：{'、'.join(unknown)}。",
            f"Unknown categories: {', '.join(unknown)}.",
            fields=[{"field": "categories", "type": "unknown", "values": unknown}],
        )
    return found


def _number(now: datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d")
    n = Incident.objects.filter(number__startswith=f"INC{day}-").count() + 1
    return f"INC{day}-{n:02d}"


def _create_numbered(now: datetime, fields: dict[str, Any]) -> Incident:
    """Create with the day's next number; two declarations in the same instant retry with the next one."""
    for attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a taken number leaves the outer transaction usable
                return Incident.objects.create(number=_number(now), **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def hq_recipients() -> list[str]:
    """HQ service's team mailboxes and the e-mail of every active HQ service member."""
    teams = Team.objects.filter(kind=Team.Kind.HQ_SERVICE)
    emails = [t.email for t in teams if t.email]
    emails += list(
        Membership.objects.filter(team__in=teams, is_active=True, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def incident_declare(
    *,
    actor: Actor,
    title: str,
    services: str,
    symptoms: str,
    impact: str,
    started_at: datetime | None,
    detected_at: datetime | None,
    all_provinces: bool = False,
    province_slugs: Sequence[str] = (),
    category_codes: Sequence[str] = (),
    measures: str = "",
    workaround: str = "",
    expected_recovery_at: datetime | None = None,
    auto_link: bool = False,
    auto_link_keywords: str = "",
    now: datetime | None = None,
) -> Incident:
    """Declare an incident; HQ service is notified in the same transaction (alert) and by mail after commit."""
    now = _now(now)
    seat = managing_seat(actor)
    title = _text(title, "title", "标题", limit=200)
    services = _text(services, "services", "受影响业务/功能", limit=300)
    symptoms = _text(symptoms, "symptoms", "故障现象")
    measures = _text(measures, "measures", "处理措施", required=False)
    workaround = _text(workaround, "workaround", "临时解决办法", required=False)
    keywords = _text(auto_link_keywords, "auto_link_keywords", "自动关联关键词", required=False, limit=200)
    if impact not in Impact.values:
        raise ValidationFailed(
            "请选择影响级别(P1–P3)。",
            "Choose the impact level (P1–P3).",
            fields=[{"field": "impact", "allowed": list(Impact.values)}],
        )
    started, detected = _check_times(started_at, detected_at, now)
    provinces = _provinces(all_provinces, province_slugs)
    categories = _categories(category_codes)
    if expected_recovery_at is not None and expected_recovery_at < started:
        raise ValidationFailed(
            "预计恢复时间不能早于故障开始时间。",
            "Expected recovery cannot be before the start.",
            fields=[{"field": "expected_recovery_at", "type": "before_start"}],
        )
    with transaction.atomic():
        incident = _create_numbered(
            now,
            dict(
                title=title,
                services=services,
                all_provinces=all_provinces,
                started_at=started,
                detected_at=detected,
                declared_at=now,
                symptoms=symptoms,
                impact=impact,
                measures=measures,
                workaround=workaround,
                expected_recovery_at=expected_recovery_at,
                declared_by=_user(actor),
                declared_unit=seat.unit_code,
                hq_notified_at=now,
                auto_link=auto_link,
                auto_link_keywords=keywords,
                autolink_checked_until=None,
            ),
        )
        incident = _lock(incident)
        incident.provinces.set(provinces)
        incident.categories.set(categories)
        incident.annex = selectors.compile_annex(incident, now=now)
        incident.save(update_fields=["annex"])
        _timeline(incident, Update.Kind.DECLARED, now, actor, body=symptoms, status_to=incident.status)
        recipients = hq_recipients()
        _timeline(
            incident,
            Update.Kind.HQ_NOTIFIED,
            now,
            None,
            body="、".join(recipients) if recipients else "集团客服部站内提醒",
        )
        mail.enqueue_hq_report(incident, recipients, now=now)
        push.incident_changed(incident, None)
        _audit(
            actor,
            "incident.declared",
            incident,
            unit_code=seat.unit_code,
            impact=impact,
            provinces="all" if all_provinces else [p.slug for p in provinces],
            recipients=len(recipients),
        )
        transaction.on_commit(lambda: mail.send_for_incident(incident.pk, now))
    return incident


# -- updates and status ------------------------------------------------------------------


def incident_update(
    *,
    actor: Actor,
    incident: Incident,
    body: str,
    measures: str | None = None,
    workaround: str | None = None,
    expected_recovery_at: datetime | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> Update:
    """A progress entry on the timeline; optionally new measures, workaround, expected recovery."""
    now = _now(now)
    seat = managing_seat(actor)
    body = _text(body, "body", "进展内容")
    with transaction.atomic():
        inc = _lock(incident)
        _require_open(inc)
        if version is not None and version != inc.version:
            raise Conflict(
                "事件已被他人更新，请刷新后重试。",
                "The incident changed since you loaded it; reload.",
                code=IncidentCode.STALE,
                details={"version": inc.version},
            )
        fields: list[str] = []
        if measures is not None:
            inc.measures = _text(measures, "measures", "处理措施", required=False)
            fields.append("measures")
        if workaround is not None:
            inc.workaround = _text(workaround, "workaround", "临时解决办法", required=False)
            fields.append("workaround")
        if expected_recovery_at is not None:
            inc.expected_recovery_at = expected_recovery_at
            fields.append("expected_recovery_at")
        _bump(inc, *fields)
        entry = _timeline(inc, Update.Kind.NOTE, now, actor, body=body)
        _audit(actor, "incident.updated", inc, unit_code=seat.unit_code, fields=fields)
    return entry


def incident_set_status(
    *,
    actor: Actor,
    incident: Incident,
    status: str,
    note: str = "",
    resolution_text: str = "",
    now: datetime | None = None,
) -> Incident:
    """The only writer of ``Incident.status``. Resolving needs the text every linked order's reply will carry."""
    now = _now(now)
    seat = managing_seat(actor)
    note = _text(note, "note", "说明", required=False)
    with transaction.atomic():
        inc = _lock(incident)
        if status not in Status.values or not workflow.allowed(inc.status, status):
            allowed = workflow.next_statuses(inc.status)
            raise Conflict(
                f"事件当前为「{Status(inc.status).label}」，不能改为该状态；可选：{'、'.join(str(Status(s).label) for s in allowed) or '无'}。",
                f"The incident is {inc.status}; it cannot move to {status!r}. Allowed: {', '.join(allowed) or 'none'}.",
                code=CoreCode.ILLEGAL_TRANSITION,
                details={"status": inc.status, "allowed": allowed},
            )
        fields = ["status"]
        if status == workflow.RESOLVED:
            inc.resolution_text = _text(
                resolution_text or inc.resolution_text, "resolution_text", "恢复说明(统一答复客户)"
            )
            inc.resolved_at = now
            fields += ["resolution_text", "resolved_at"]
        if status == workflow.REVIEWED:
            inc.review_summary = _text(note, "note", "复盘结论")
            inc.reviewed_at = now
            fields += ["review_summary", "reviewed_at"]
        before = inc.status
        inc.status = status
        _bump(inc, *fields)
        _timeline(inc, Update.Kind.STATUS, now, actor, body=note, status_from=before, status_to=status)
        push.incident_changed(inc, selectors.current_bulletin(inc))
        _audit(actor, "incident.status_changed", inc, unit_code=seat.unit_code, before=before, after=status)
    return inc


def incident_hq_acknowledge(*, actor: Actor, incident: Incident, now: datetime | None = None) -> Incident:
    """HQ service confirms it has the report (the in-app alert goes away). A second time changes nothing."""
    now = _now(now)
    seat = _hq_seat(actor)
    with transaction.atomic():
        inc = _lock(incident)
        if inc.hq_seen_at is not None:
            return inc
        inc.hq_seen_at, inc.hq_seen_by = now, _user(actor)
        _bump(inc, "hq_seen_at", "hq_seen_by")
        _timeline(inc, Update.Kind.HQ_SEEN, now, actor)
        _audit(actor, "incident.hq_seen", inc, unit_code=seat.unit_code)
    return inc


# -- bulletins and receipts --------------------------------------------------------------


def addressed_teams(incident: Incident) -> list[Team]:
    """The affected provinces' 10000+9 desks, the hotline and the online team."""
    desks = Team.objects.filter(kind=Team.Kind.PROVINCE_DESK)
    if not incident.all_provinces:
        desks = desks.filter(province__in=incident.provinces.all())
    national = Team.objects.filter(kind__in=ADDRESSED_NATIONAL_TEAMS)
    return list(desks.select_related("province").order_by("province__report_order", "code")) + list(
        national.order_by("code")
    )


def bulletin_issue(
    *,
    actor: Actor,
    incident: Incident,
    customer_script: str,
    agent_guidance: str,
    now: datetime | None = None,
) -> Bulletin:
    """Issue (or change) the bulletin: a new version every addressed team must acknowledge again."""
    now = _now(now)
    seat = relay_seat(actor)
    script = _text(customer_script, "customer_script", "客户口径")
    guidance = _text(agent_guidance, "agent_guidance", "坐席处理指引")
    with transaction.atomic():
        inc = _lock(incident)
        _require_open(inc)
        current = Bulletin.objects.select_for_update().filter(incident=inc, is_current=True).first()
        if current is not None and current.customer_script == script and current.agent_guidance == guidance:
            raise Conflict(
                "通报内容与当前版本相同，无需重新下发。",
                "The bulletin is unchanged; nothing to issue.",
                code=IncidentCode.UNCHANGED,
                details={"version": current.version},
            )
        version = 1
        if current is not None:
            version = current.version + 1
            current.is_current = False
            current.save(update_fields=["is_current"])
        bulletin = Bulletin.objects.create(
            incident=inc,
            version=version,
            customer_script=script,
            agent_guidance=guidance,
            issued_at=now,
            issued_by=_user(actor),
        )
        teams = addressed_teams(inc)
        Receipt.objects.bulk_create(
            [Receipt(bulletin=bulletin, team=t, province_id=t.province_id) for t in teams]
        )
        _bump(inc)
        _timeline(inc, Update.Kind.BULLETIN, now, actor, body=f"v{version}：{script}")
        push.incident_changed(inc, bulletin)
        _audit(
            actor,
            "incident.bulletin_issued",
            inc,
            unit_code=seat.unit_code,
            version=version,
            teams=len(teams),
        )
    return bulletin


def receipt_acknowledge(*, actor: Actor, bulletin: Bulletin, now: datetime | None = None) -> Receipt:
    """The actor's team confirms it has the current bulletin. Not addressed to the actor's team: 403."""
    now = _now(now)
    actor.require("incident.ack")
    team_ids = actor.team_ids_with("incident.ack")
    with transaction.atomic():
        b = (
            Bulletin.objects.select_for_update(of=("self",))
            .select_related("incident")
            .filter(pk=bulletin.pk)
            .first()
        )
        if b is None:
            raise NotFound()
        if not b.is_current:
            raise Conflict(
                "该通报已有新版本，请确认最新版本。",
                "This bulletin was replaced; acknowledge the new version.",
                code=IncidentCode.SUPERSEDED,
                details={"version": b.version},
            )
        receipt = (
            Receipt.objects.unscoped(_WHY)
            .select_for_update(of=("self",))
            .select_related("team", "province")
            .filter(bulletin=b, team_id__in=team_ids)
            .order_by("pk")
            .first()
        )
        if receipt is None:
            raise Forbidden(
                "该通报未下发给您所在的团队，无需确认。",
                "This bulletin is not addressed to your team.",
                code=IncidentCode.NOT_ADDRESSED,
            )
        if receipt.acknowledged_at is not None:
            return receipt
        receipt.acknowledged_at, receipt.acknowledged_by = now, _user(actor)
        receipt.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(
            actor=_user(actor),
            verb="incident.bulletin_acknowledged",
            target=receipt,
            data={"incident": b.incident.number, "version": b.version, "team": receipt.team.code},
            province_code=receipt.province.code if receipt.province else "",
            unit_code=actor.unit_code,
        )
    return receipt


def receipts_remind(*, now: datetime | None = None, after: timedelta | None = None) -> int:
    """Remind the teams that have not acknowledged the current bulletin after ``after`` (then again every ``after``)."""
    now = _now(now)
    after = after or timedelta(minutes=getattr(settings, "KEFU_INCIDENT_REMIND_MINUTES", 15))
    with transaction.atomic():
        pending = list(
            Receipt.objects.unscoped("reminder job: every province's pending receipts")
            .select_for_update(of=("self",))
            .select_related("team", "bulletin__incident")
            .filter(
                acknowledged_at=None,
                bulletin__is_current=True,
                bulletin__issued_at__lte=now - after,
                bulletin__incident__status__in=sorted(workflow.OPEN_STATUSES),
            )
            .filter(Q(reminded_at=None) | Q(reminded_at__lte=now - after))
        )
        for r in pending:
            r.reminded_at, r.reminder_count = now, r.reminder_count + 1
            r.save(update_fields=["reminded_at", "reminder_count"])
            if r.team.email:
                mail.enqueue_reminder(r, now=now)
        incidents = {r.bulletin.incident_id for r in pending}
        for inc in Incident.objects.filter(pk__in=incidents):
            _audit(
                None,
                "incident.receipts_reminded",
                inc,
                teams=sum(1 for r in pending if r.bulletin.incident_id == inc.pk),
            )
        if pending:

            def send() -> None:
                for i in incidents:
                    mail.send_for_incident(i, now)

            transaction.on_commit(send)
    return len(pending)


# -- links -------------------------------------------------------------------------------


def _affects(incident: Incident, province_id: int) -> bool:
    return incident.all_provinces or incident.provinces.filter(pk=province_id).exists()


def link_create(
    *,
    actor: Actor | None,
    incident: Incident,
    ticket: Ticket,
    auto: bool = False,
    now: datetime | None = None,
) -> Link:
    """Count an order as a contact of the incident. ``ticket`` comes from the caller's scoped fetch.

    Linking the same order again changes nothing; an order of a province the
    incident does not affect, or to a closed incident, is refused.
    """
    now = _now(now)
    if actor is not None:
        actor.require("incident.link")
        if not actor.scope.covers(ticket.province_id):
            raise NotFound()
    with transaction.atomic():
        inc = _lock(incident)
        existing = Link.objects.unscoped(_WHY).select_related("incident").filter(ticket_id=ticket.pk).first()
        if existing is not None:
            if existing.incident_id == inc.pk:
                return existing
            raise Conflict(
                f"该工单已关联事件 {existing.incident.number}。",
                f"The order is already linked to incident {existing.incident.number}.",
                code=IncidentCode.ALREADY_LINKED,
                details={"incident": existing.incident.number},
            )
        _require_open(inc)
        if not _affects(inc, ticket.province_id):
            raise ValidationFailed(
                "该工单所属省份不在事件影响范围内，不能关联。",
                "The order's province is not affected by this incident.",
                code=IncidentCode.PROVINCE_NOT_AFFECTED,
                fields=[{"field": "ticket", "type": "province"}],
            )
        link = Link.objects.create(
            incident=inc,
            ticket=ticket,
            province_id=ticket.province_id,
            ticket_created_at=ticket.created_at,
            linked_at=now,
            linked_by=_user(actor),
            auto=auto,
        )
        audit.record(
            actor=_user(actor),
            verb="incident.order_linked",
            target=link,
            data={"incident": inc.number, "ticket": ticket.number, "auto": auto},
            province_code=_province_code(ticket.province_id),
            unit_code=actor.unit_code if actor is not None else "",
        )
    return link


def link_remove(*, actor: Actor, link: Link, now: datetime | None = None) -> None:
    """Undo a wrong link while the incident is open (the order no longer counts under it)."""
    actor.require("incident.link")
    if not actor.scope.covers(link.province_id):
        raise NotFound()
    with transaction.atomic():
        inc = _lock(link.incident)
        _require_open(inc)
        locked = Link.objects.unscoped(_WHY).select_for_update().filter(pk=link.pk).first()
        if locked is None:
            raise NotFound()
        audit.record(
            actor=_user(actor),
            verb="incident.order_unlinked",
            target=inc,
            data={"number": inc.number, "ticket": locked.ticket_id},
            province_code=_province_code(locked.province_id),
            unit_code=actor.unit_code,
        )
        locked.delete()


def _province_code(province_id: int) -> str:
    return Province.objects.filter(pk=province_id).values_list("code", flat=True).first() or ""


def autolink_run(*, now: datetime | None = None, limit: int = 2000) -> int:
    """The auto-link rules: orders registered since the last run that match an open incident with rules on."""
    now = _now(now)
    made = 0
    for inc in Incident.objects.filter(status__in=sorted(workflow.OPEN_STATUSES), auto_link=True):
        since = inc.autolink_checked_until or inc.started_at
        words = [w for w in inc.auto_link_keywords.split() if w]
        for t in selectors.candidates(inc, since=since, until=now, keywords=words, limit=limit):
            try:
                link_create(actor=None, incident=inc, ticket=t, auto=True, now=now)
                made += 1
            except (Conflict, ValidationFailed):
                continue
        Incident.objects.filter(pk=inc.pk).update(autolink_checked_until=now)
    return made
