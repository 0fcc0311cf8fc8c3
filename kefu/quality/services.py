"""The only writers of inspections: sampling, scoring, the agent's answer, the supervisor's decision."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kefu.chat.models import Conversation
from kefu.core import audit
from kefu.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.norms.models import Screening
from kefu.org.access import Actor
from kefu.org.models import Membership, Team
from kefu.quality.codes import QualityCode
from kefu.tickets.models import CustomerReply, Kind, Ticket

from . import workflow
from .models import Inspection, ItemScore, Reason, SamplingRun, SamplingSetting, ScoreItem, Status

BJ = ZoneInfo("Asia/Shanghai")
# A complaint whose words are about the agent's manner (the taxonomy has no attitude category).
ATTITUDE_WORDS = ("态度", "服务差", "不耐烦", "骂", "顶撞", "推诿", "敷衍", "凶", "语气")


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in Beijing time, as aware datetimes."""
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(first, time(), BJ), datetime.combine(nxt, time(), BJ)


def is_attitude_complaint(ticket: Ticket) -> bool:
    text = f"{ticket.subject} {ticket.description}"
    return ticket.kind == Kind.COMPLAINT and any(w in text for w in ATTITUDE_WORDS)


@dataclass(frozen=True)
class Candidate:
    kind: str
    id: str
    label: str
    agent_id: int
    team_id: int


def _ticket_candidates(
    start: datetime, end: datetime, province_ids: frozenset[int] | None
) -> dict[str, Candidate]:
    """One candidate per order replied to in the month: the agent of its last reply that month."""
    replies = (
        CustomerReply.objects.unscoped(
            "quality sampling reads every reply of the month; rows are filtered by the sampler's scope below"
        )
        .filter(replied_at__gte=start, replied_at__lt=end, author__isnull=False)
        .select_related("team", "ticket")
        .order_by("replied_at", "id")
    )
    out: dict[str, Candidate] = {}
    for r in replies:
        if province_ids is not None and r.team.province_id not in province_ids:
            continue
        out[str(r.ticket_id)] = Candidate("ticket", str(r.ticket_id), r.ticket.number, r.author_id, r.team_id)
    return out


def _chat_candidates(
    start: datetime, end: datetime, province_ids: frozenset[int] | None
) -> dict[str, Candidate]:
    """One candidate per conversation an agent held that ended in the month (online service, 第六条)."""
    convs = (
        Conversation.objects.filter(closed_at__gte=start, closed_at__lt=end, agent__isnull=False)
        .select_related("team")
        .order_by("closed_at", "id")
    )
    out: dict[str, Candidate] = {}
    for c in convs:
        if province_ids is not None and c.team.province_id not in province_ids:
            continue
        assert c.agent_id is not None
        out[str(c.pk)] = Candidate("chat", str(c.pk), f"chat#{c.pk}", c.agent_id, c.team_id)
    return out


def sample_month(*, actor: Actor | None, month: date, now: datetime | None = None) -> int:
    """Create the month's inspections (idempotent): N random contacts per agent, plus every contact with a
    norms warning or block and every attitude complaint. ``actor`` None = the system (all provinces)."""
    now = now or timezone.now()
    province_ids: frozenset[int] | None = None
    if actor is not None:
        actor.require("quality.inspect")
        if not actor.scope.national:
            province_ids = actor.scope.province_ids
    start, end = month_bounds(month)
    first = month.replace(day=1)
    cands = _ticket_candidates(start, end, province_ids)
    chats = _chat_candidates(start, end, province_ids)
    pools = {"ticket": cands, "chat": chats}
    chosen: dict[tuple[str, str], tuple[Candidate, str]] = {}
    for s in Screening.objects.filter(at__gte=start, at__lt=end).order_by("id"):
        reason = Reason.BLOCKED if s.outcome == "block" else Reason.WARNING
        if s.contact_id in pools.get(s.contact_kind, {}):
            c = pools[s.contact_kind][s.contact_id]
            c = Candidate(c.kind, c.id, c.label, s.agent_id or c.agent_id, c.team_id)
        elif s.agent_id is not None:
            seat = (
                Membership.objects.filter(user_id=s.agent_id, is_active=True).select_related("team").first()
            )
            if seat is None or (province_ids is not None and seat.team.province_id not in province_ids):
                continue
            c = Candidate(
                s.contact_kind, s.contact_id, f"{s.contact_kind}#{s.contact_id}", s.agent_id, seat.team_id
            )
        else:
            continue
        key = (c.kind, c.id)
        if key not in chosen or reason == Reason.BLOCKED:
            chosen[key] = (c, reason)
    if cands:
        tickets = Ticket.objects.unscoped("quality sampling: orders already filtered by scope").filter(
            pk__in=[int(k) for k in cands]
        )
        for t in tickets:
            if is_attitude_complaint(t):
                chosen.setdefault(("ticket", str(t.pk)), (cands[str(t.pk)], Reason.ATTITUDE))
    setting = SamplingSetting.objects.first()
    n = setting.samples_per_agent if setting else 3
    by_agent: dict[int, list[Candidate]] = defaultdict(list)
    for c in [*cands.values(), *chats.values()]:
        by_agent[c.agent_id].append(c)
    # Contacts already sampled (any month) are not drawn again, and an agent's random draws of the month
    # already made count against N: a rerun (button, job, both) never adds random samples beyond N.
    taken = Inspection.objects.unscoped("quality sampling: which contacts are taken, whatever the scope")
    already = set(
        taken.filter(contact_kind="ticket", contact_id__in=list(cands)).values_list(
            "contact_kind", "contact_id"
        )
    ) | set(
        taken.filter(contact_kind="chat", contact_id__in=list(chats)).values_list(
            "contact_kind", "contact_id"
        )
    )
    drawn: Counter[int] = Counter(
        Inspection.objects.unscoped("quality sampling: random draws already made this month")
        .filter(month=first, reason=Reason.RANDOM, agent_id__in=list(by_agent))
        .values_list("agent_id", flat=True)
    )
    for agent_id, pool in by_agent.items():
        rng = random.Random(f"{first.isoformat()}:{agent_id}")  # the same draw however often it runs
        # the random ones come on top of those sampled for a reason
        pool = sorted(
            (c for c in pool if (c.kind, c.id) not in chosen and (c.kind, c.id) not in already),
            key=lambda c: (c.kind, int(c.id)),
        )
        want = max(0, n - drawn[agent_id])
        for c in rng.sample(pool, min(want, len(pool))):
            chosen.setdefault((c.kind, c.id), (c, Reason.RANDOM))
    teams = {t.pk: t for t in Team.objects.filter(pk__in={c.team_id for c, _r in chosen.values()})}
    created = 0
    for (kind, cid), (c, why) in sorted(chosen.items(), key=lambda kv: kv[0]):
        try:
            with transaction.atomic():
                ins = Inspection.objects.create(
                    contact_kind=kind,
                    contact_id=cid,
                    contact_label=c.label[:60],
                    month=first,
                    agent_id=c.agent_id,
                    team_id=c.team_id,
                    province_id=teams[c.team_id].province_id,
                    reason=why,
                    created_at=now,
                )
                audit.record(
                    actor=actor.user if actor else None,
                    verb="quality.sampled",
                    target=ins,
                    data={"reason": why, "contact": f"{kind}:{cid}"},
                    province_code=_province_code(teams[c.team_id].province),
                )
                created += 1
        except IntegrityError:
            continue  # already sampled (another run, or an earlier month)
    return created


def previous_month(now: datetime) -> date:
    """The first day of the month before ``now``'s month, in Beijing time."""
    first = now.astimezone(BJ).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def sample_month_end(*, now: datetime | None = None) -> int | None:
    """The month-end draw: the previous month sampled once, by the system, for every province.

    Returns the number sampled, or None when that month's draw was already made (a rerun, a second
    worker). Inspections sampled earlier with the button stay and count against N.
    """
    now = now or timezone.now()
    month = previous_month(now)
    if SamplingRun.objects.filter(month=month).exists():
        return None
    created = sample_month(actor=None, month=month, now=now)
    try:
        with transaction.atomic():
            SamplingRun.objects.create(month=month, at=now, created=created)
    except IntegrityError:  # another worker finished the same month first; its draws and ours are one set
        return None
    return created


def _province_code(province: Any) -> str:
    return province.code if province is not None else ""


# -- one inspection ------------------------------------------------------------


def inspection_for(actor: Actor, pk: int) -> Inspection:
    """An inspection the actor may see: inspectors by scope, an agent their own. Else the 404 of a missing id."""
    qs = Inspection.objects.scoped(actor.scope).filter(pk=pk)
    if not actor.can("quality.inspect"):
        qs = qs.filter(agent=actor.user)
    ins = qs.select_related("agent", "team", "province", "inspector", "decided_by").first()
    if ins is None:
        own = Inspection.objects.unscoped("an agent's own inspection").filter(pk=pk, agent=actor.user)
        ins = own.select_related("agent", "team", "province", "inspector", "decided_by").first()
    if ins is None:
        raise NotFound()
    return ins


def items_for(ins: Inspection) -> list[ScoreItem]:
    channel = "online" if ins.team.kind == "online" else "hotline"
    return list(ScoreItem.objects.filter(active=True).filter(Q(channel=channel) | Q(channel="all")))


def _lock(ins: Inspection, action: str, version: int | None) -> Inspection:
    locked = (
        Inspection.objects.unscoped("row lock of an inspection fetched through inspection_for")
        .select_for_update(of=("self",))
        .select_related("team", "province")
        .get(pk=ins.pk)
    )
    if version is not None and version != locked.version:
        raise Conflict(
            "该质检已被他人修改，请刷新后重试。",
            "The inspection changed meanwhile; reload and retry.",
            code=QualityCode.STALE_VERSION,
        )
    to = workflow.target(locked.status, action)
    if to is None:
        raise IllegalTransition(
            f"当前状态({locked.get_status_display()})不能执行该操作。",
            f"Not allowed in status {locked.status}.",
        )
    return locked


def _points(value: Any, weight: int, code: str) -> Decimal:
    try:
        p = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            f"第 {code} 项得分不是数字。",
            f"Item {code}: the score is not a number.",
            fields=[{"field": f"item_{code}", "type": "number"}],
        ) from None
    if not p.is_finite() or p < 0 or p > weight:
        raise ValidationFailed(
            f"第 {code} 项得分应在 0 到 {weight} 之间。",
            f"Item {code}: score must be 0-{weight}.",
            fields=[{"field": f"item_{code}", "type": "range", "max": weight}],
        )
    return p.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _event(actor: Actor, ins: Inspection, verb: str, **data: Any) -> None:
    audit.record(
        actor=actor.user,
        verb=verb,
        target=ins,
        data=data,
        province_code=_province_code(ins.province),
    )


def inspection_score(
    *,
    actor: Actor,
    inspection: Inspection,
    points: dict[str, Any],
    notes: dict[str, str] | None = None,
    comment: str = "",
    version: int | None = None,
) -> Inspection:
    """Score every item of the scorecard; the score is out of 100 whatever the weights add up to."""
    actor.require("quality.inspect")
    if inspection.agent_id == actor.user.pk:
        raise Forbidden(
            "不能质检自己的服务。", "You cannot inspect your own contacts.", code=QualityCode.OWN_CONTACT
        )
    notes = notes or {}
    with transaction.atomic():
        ins = _lock(inspection, "score", version)
        items = items_for(ins)
        missing = [i.code for i in items if str(points.get(i.code, "")).strip() == ""]
        if missing:
            raise ValidationFailed(
                f"请为每一项评分(缺 {'、'.join(missing)})。",
                f"Score every item (missing {missing}).",
                fields=[{"field": f"item_{c}", "type": "required"} for c in missing],
            )
        scored = [(i, _points(points[i.code], i.weight, i.code)) for i in items]
        total_weight = sum(i.weight for i in items) or 1
        score = (sum((p for _i, p in scored), Decimal(0)) * 100 / Decimal(total_weight)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if ins.status == Status.SCORED:
            ins.item_scores.all().delete()
        ItemScore.objects.bulk_create(
            [
                ItemScore(
                    inspection=ins, item=i, weight=i.weight, points=p, note=(notes.get(i.code) or "")[:200]
                )
                for i, p in scored
            ]
        )
        ins.status, ins.inspector, ins.scored_at = Status.SCORED, actor.user, timezone.now()
        ins.score, ins.comment, ins.version = score, comment.strip()[:5000], ins.version + 1
        ins.save()
        _event(actor, ins, "quality.scored", score=str(score))
    return ins


def inspection_acknowledge(*, actor: Actor, inspection: Inspection, version: int | None = None) -> Inspection:
    if inspection.agent_id != actor.user.pk:
        raise Forbidden(
            "只有被质检的坐席本人可以确认。",
            "Only the inspected agent may acknowledge.",
            code=QualityCode.NOT_AGENT,
        )
    with transaction.atomic():
        ins = _lock(inspection, "acknowledge", version)
        ins.status, ins.final_score, ins.version = Status.FINAL, ins.score, ins.version + 1
        ins.save()
        _event(actor, ins, "quality.acknowledged", final_score=str(ins.final_score))
    return ins


def inspection_appeal(
    *, actor: Actor, inspection: Inspection, reason: str, version: int | None = None
) -> Inspection:
    if inspection.agent_id != actor.user.pk:
        raise Forbidden(
            "只有被质检的坐席本人可以申诉。",
            "Only the inspected agent may appeal.",
            code=QualityCode.NOT_AGENT,
        )
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise ValidationFailed(
            "请填写申诉理由(不超过 2000 字)。",
            "Give the reason for the appeal (max 2000).",
            fields=[{"field": "reason", "type": "required"}],
        )
    with transaction.atomic():
        ins = _lock(inspection, "appeal", version)
        ins.status, ins.appeal_reason, ins.appealed_at = Status.APPEALED, reason, timezone.now()
        ins.version += 1
        ins.save()
        _event(actor, ins, "quality.appealed")
    return ins


def inspection_decide(
    *, actor: Actor, inspection: Inspection, final_score: Any, comment: str, version: int | None = None
) -> Inspection:
    """The supervisor's decision on an appeal: the final score (kept) and why."""
    actor.require("quality.inspect")
    if inspection.agent_id == actor.user.pk:
        raise Forbidden(
            "不能裁定自己的申诉。", "You cannot decide your own appeal.", code=QualityCode.OWN_CONTACT
        )
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(
            "请填写裁定意见。",
            "Give the reason for the decision.",
            fields=[{"field": "comment", "type": "required"}],
        )
    score = _points(final_score, 100, "final")
    with transaction.atomic():
        ins = _lock(inspection, "decide", version)
        ins.status, ins.final_score, ins.decided_by, ins.decided_at = (
            Status.FINAL,
            score,
            actor.user,
            timezone.now(),
        )
        ins.decision_comment, ins.version = comment[:5000], ins.version + 1
        ins.save()
        _event(actor, ins, "quality.decided", score=str(ins.score), final_score=str(score))
    return ins


def item_weight_set(*, actor: Actor, item: ScoreItem, weight: Any) -> ScoreItem:
    actor.require("quality.configure")
    try:
        w = int(str(weight).strip())
    except ValueError:
        raise ValidationFailed(
            "分值应为整数。", "The weight must be a whole number.", fields=[{"field": "weight"}]
        ) from None
    if not 0 <= w <= 100:
        raise ValidationFailed(
            "分值应在 0 到 100 之间。", "The weight must be 0-100.", fields=[{"field": "weight"}]
        )
    with transaction.atomic():
        locked = ScoreItem.objects.select_for_update().get(pk=item.pk)
        old, locked.weight = locked.weight, w
        locked.save(update_fields=["weight"])
        audit.record(
            actor=actor.user,
            verb="quality.weight_set",
            target=locked,
            data={"code": locked.code, "from": old, "to": w},
        )
    return locked


def samples_setting_set(*, actor: Actor, samples: Any) -> SamplingSetting:
    actor.require("quality.configure")
    try:
        n = int(str(samples).strip())
    except ValueError:
        raise ValidationFailed(
            "抽检数应为整数。", "Must be a whole number.", fields=[{"field": "samples"}]
        ) from None
    if not 0 <= n <= 100:
        raise ValidationFailed("抽检数应在 0 到 100 之间。", "Must be 0-100.", fields=[{"field": "samples"}])
    with transaction.atomic():
        s = SamplingSetting.objects.select_for_update().first() or SamplingSetting.objects.create()
        old, s.samples_per_agent, s.updated_at = s.samples_per_agent, n, timezone.now()
        s.save()
        audit.record(actor=actor.user, verb="quality.samples_set", target=s, data={"from": old, "to": n})
    return s
