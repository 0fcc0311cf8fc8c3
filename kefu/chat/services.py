"""The only writers of chat: each locks the conversation, appends, audits, pushes after commit.

Visitors are identified by their token's group (``chat.<id>``); agents by their
actor and the conversation's team. A message is stored before it is
acknowledged; the same client id twice returns the stored message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from kefu import realtime
from kefu.chat.codes import ChatCode
from kefu.core import audit
from kefu.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from kefu.core.ratelimit import hit
from kefu.customers import services as customer_services
from kefu.customers.models import Contact
from kefu.customers.phones import try_normalize_phone
from kefu.norms import services as norms
from kefu.org.access import Actor
from kefu.org.models import Team, User
from kefu.realtime import services as rt
from kefu.sla.calendar_math import is_open
from kefu.sla.calendars import spec_for

from . import files, workflow
from .models import Attachment, ChatSettings, Conversation, Message, Note, Presence, Transfer

log = logging.getLogger(__name__)

MAX_TEXT = 2000
TOKEN_TTL = timedelta(hours=12)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

GREETING_FALLBACK = "您好，欢迎使用新视通(4G版)在线客服，请问有什么可以帮您？"
CLOSING_FALLBACK = "请问还有其他问题需要咨询吗？如没有，本次对话将结束，感谢您的咨询，祝您工作顺利！"
SILENT_FALLBACK = "感谢您使用新视通(4G版)在线客服，欢迎您以后继续使用！"


# -- small helpers -------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def clean_text(value: Any, *, field: str = "text", limit: int = MAX_TEXT, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed("内容必须是文本。", "The content must be text.", fields=[{"field": field}])
    text = _CONTROL.sub("", value).strip()
    if required and not text:
        raise ValidationFailed("内容不能为空。", "The content must not be empty.", fields=[{"field": field}])
    if len(text) > limit:
        raise ValidationFailed(
            f"内容不能超过 {limit} 个字。",
            f"The content must be at most {limit} characters.",
            code=ChatCode.TOO_LONG,
            fields=[{"field": field, "limit": limit}],
        )
    return text


def _client_id(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 64 or not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
        raise ValidationFailed(
            "client_id 格式不正确。",
            "Invalid client_id.",
            code=ChatCode.BAD_CLIENT_ID,
            fields=[{"field": "client_id"}],
        )
    return value


def chat_settings() -> ChatSettings:
    found = ChatSettings.objects.select_related("team", "calendar").first()
    if found is None:
        raise Conflict(
            "在线客服尚未配置。", "The online service is not configured.", code=ChatCode.CHAT_NOT_CONFIGURED
        )
    return found


def message_frame(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk,
        "seq": m.seq,
        "sender": m.sender,
        "kind": m.kind,
        "text": m.text,
        "author": (m.author.display_name or m.author.username) if m.author_id and m.author else "",
        "client_id": m.client_id,
        "at": m.created_at.isoformat(),
        "data": m.data,
    }


def conversation_frame(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.pk,
        "status": c.status,
        "team": c.team_id,
        "agent": c.agent_id,
        "visitor_name": c.visitor_name,
        "visitor_unit": c.visitor_unit,
        "created_at": c.created_at.isoformat(),
        "accepted_at": c.accepted_at.isoformat() if c.accepted_at else None,
        "last_seq": c.last_seq,
        "visitor_read_seq": c.visitor_read_seq,
        "agent_read_seq": c.agent_read_seq,
        "rating": c.rating,
        "closed_by": c.closed_by,
    }


def _append(
    c: Conversation,
    *,
    sender: str,
    text: str,
    now: datetime,
    author: User | None = None,
    client_id: str = "",
    kind: str = "text",
    data: dict[str, Any] | None = None,
) -> Message:
    """Append to a conversation the caller has locked; push after commit."""
    seq = c.last_seq + 1
    m = Message.objects.create(
        conversation=c,
        seq=seq,
        sender=sender,
        author=author,
        client_id=client_id,
        kind=kind,
        text=text,
        data=data or {},
        created_at=now,
    )
    c.last_seq = seq
    realtime.publish(c.group, "chat.message", message_frame(m), seq=seq)
    return m


def _queue_changed(c: Conversation, what: str) -> None:
    realtime.publish(f"team.{c.team_id}", "chat.queue", {"what": what, "conversation": conversation_frame(c)})


def _lock(pk: int) -> Conversation | None:
    return Conversation.objects.select_for_update(of=("self",)).select_related("team").filter(pk=pk).first()


def _audit(actor: User | None, verb: str, c: Conversation, **data: Any) -> None:
    audit.record(actor=actor, verb=verb, target=c, data=data, unit_code="operator")


# -- who may act on which conversation ----------------------------------------


def visible_team_ids(actor: Actor) -> frozenset[int]:
    return actor.team_ids_with("chat.work")


def conversation_for_agent(actor: Actor, pk: Any, *, lock: bool = False) -> Conversation:
    """A conversation of one of the actor's teams; anything else is the 404 of a missing one."""
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise NotFound()
    qs = Conversation.objects.select_for_update(of=("self",)) if lock else Conversation.objects.all()
    c = qs.select_related("team").filter(pk=pk, team_id__in=visible_team_ids(actor)).first()
    if c is None:
        raise NotFound()
    return c


def _holder(actor: Actor, c: Conversation) -> None:
    if c.agent_id != actor.user.pk:
        raise Conflict("该会话不在您名下。", "You do not hold this conversation.", code=ChatCode.NOT_HOLDER)


def conversation_for_visitor(groups: frozenset[str], pk: Any, *, lock: bool = False) -> Conversation:
    if not isinstance(pk, int) or isinstance(pk, bool) or f"chat.{pk}" not in groups:
        raise NotFound()
    qs = Conversation.objects.select_for_update(of=("self",)) if lock else Conversation.objects.all()
    c = qs.select_related("team").filter(pk=pk).first()
    if c is None:
        raise NotFound()
    return c


# -- service hours and presence -------------------------------------------------


def online_agents(team_id: int) -> list[int]:
    return list(
        Presence.objects.filter(
            status=Presence.Status.ONLINE,
            user__memberships__team_id=team_id,
            user__memberships__is_active=True,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


def availability(*, now: datetime | None = None) -> dict[str, Any]:
    """Whether a visitor can chat now: within service hours and at least one agent online."""
    s = chat_settings()
    now = _now(now)
    in_hours = is_open(spec_for(s.calendar), now)
    agents = online_agents(s.team_id) if in_hours else []
    waiting = Conversation.objects.filter(team_id=s.team_id, status=workflow.WAITING).count()
    return {
        "open": in_hours and bool(agents),
        "in_hours": in_hours,
        "agents_online": len(agents),
        "waiting": waiting,
    }


def presence_set(*, actor: Actor, status: Any, now: datetime | None = None) -> Presence:
    actor.require("chat.work")
    if status not in Presence.Status.values:
        raise ValidationFailed("状态不正确。", "Invalid status.", fields=[{"field": "status"}])
    now = _now(now)
    with transaction.atomic():
        p, _ = Presence.objects.select_for_update().get_or_create(user=actor.user)
        if p.status != status:
            p.status, p.changed_at = status, now
            p.save(update_fields=["status", "changed_at"])
            audit.record(actor=actor.user, verb="chat.presence", target=p, data={"status": status})
            for team_id in visible_team_ids(actor):
                realtime.publish(
                    f"team.{team_id}",
                    "chat.presence",
                    {"user": actor.user.pk, "status": status},
                    ephemeral=True,
                )
    return p


def active_count(user_id: int) -> int:
    return Conversation.objects.filter(agent_id=user_id, status=workflow.ACTIVE).count()


# -- the visitor's side -------------------------------------------------------


def conversation_start(
    *,
    name: Any,
    unit: Any = "",
    phone: Any = "",
    text: Any = "",
    address: str = "",
    origin: str = "",
    now: datetime | None = None,
) -> tuple[Conversation, str]:
    """A visitor opens a conversation; returns it and the visitor's token (shown once)."""
    now = _now(now)
    name = clean_text(name, field="name", limit=60)
    unit = clean_text(unit, field="unit", limit=120, required=False)
    first = clean_text(text, field="text", required=False)
    raw_phone = clean_text(phone, field="phone", limit=40, required=False)
    canonical = ""
    if raw_phone:
        canonical = try_normalize_phone(raw_phone) or ""
        if not canonical:
            raise ValidationFailed(
                "电话号码格式不正确。",
                "The phone number is not valid.",
                code=ChatCode.BAD_PHONE,
                fields=[{"field": "phone"}],
            )
    if address and not hit("chat-start", address, limit=5, window_s=600, now=now.timestamp()):
        raise ValidationFailed(
            "发起会话过于频繁，请稍后再试。",
            "Too many new conversations; try again later.",
            code=ChatCode.RATE_LIMITED,
            status=429,
        )
    state = availability(now=now)
    if not state["open"]:
        raise Conflict(
            "当前不在服务时间或暂无坐席在线，请留言。",
            "Outside service hours or no agent online: please leave a message.",
            code=ChatCode.CHAT_OFFLINE,
            details=state,
        )
    s = chat_settings()
    contact = None
    if canonical:
        contact = (
            Contact.objects.unscoped("chat: a possible match shown to the agent, never used to grant access")
            .filter(phones__number=canonical)
            .order_by("pk")
            .first()
        )
    with transaction.atomic():
        c = Conversation.objects.create(
            team=s.team,
            visitor_name=name,
            visitor_unit=unit,
            visitor_phone=canonical,
            possible_contact=contact,
            origin=origin[:200],
            address=address or None,
            created_at=now,
        )
        token, raw = rt.visitor_token_issue(
            purpose=f"chat.conversation:{c.pk}", groups_allowed=[c.group], ttl=TOKEN_TTL, now=now
        )
        c.token = token
        if first:
            _append(c, sender=Message.Sender.VISITOR, text=first, now=now)
            c.visitor_asked, c.last_visitor_at = True, now
        c.save()
        _audit(None, "chat.started", c, origin=origin[:200])
        _queue_changed(c, "waiting")
        if s.routing == ChatSettings.Routing.LEAST_LOADED:
            agent_id = _least_loaded(s)
            if agent_id is not None:
                _accept(c, User.objects.get(pk=agent_id), now)
    return c, raw


def message_leave(
    *,
    name: Any,
    unit: Any = "",
    phone: Any = "",
    kind: Any = "consultation",
    text: Any,
    address: str = "",
    origin: str = "",
    now: datetime | None = None,
) -> Conversation:
    """Outside service hours or with nobody online: a message for the online team, which turns it into an order.

    The visitor's contact details travel with it; the online team sees it in the console's 留言 list.
    """
    now = _now(now)
    name = clean_text(name, field="name", limit=60)
    unit = clean_text(unit, field="unit", limit=120, required=False)
    body = clean_text(text, field="text")
    if kind not in ("consultation", "fault"):
        raise ValidationFailed(
            "请选择咨询或故障申告。", "Choose consultation or fault.", fields=[{"field": "kind"}]
        )
    raw_phone = clean_text(phone, field="phone", limit=40, required=False)
    canonical = try_normalize_phone(raw_phone) if raw_phone else ""
    if raw_phone and not canonical:
        raise ValidationFailed(
            "电话号码格式不正确。",
            "The phone number is not valid.",
            code=ChatCode.BAD_PHONE,
            fields=[{"field": "phone"}],
        )
    if not canonical:
        raise ValidationFailed(
            "留言请留下电话，以便我们回复您。",
            "Leave a phone number so that we can answer you.",
            fields=[{"field": "phone", "type": "required"}],
        )
    if address and not hit("chat-leave", address, limit=5, window_s=600, now=now.timestamp()):
        raise ValidationFailed(
            "留言过于频繁，请稍后再试。",
            "Too many messages; try again later.",
            code=ChatCode.RATE_LIMITED,
            status=429,
        )
    s = chat_settings()
    contact = (
        Contact.objects.unscoped("chat: a possible match shown to the agent, never used to grant access")
        .filter(phones__number=canonical)
        .order_by("pk")
        .first()
    )
    with transaction.atomic():
        c = Conversation.objects.create(
            team=s.team,
            status=Conversation.Status.LEFT_MESSAGE,
            visitor_name=name,
            visitor_unit=unit,
            visitor_phone=canonical or "",
            possible_contact=contact,
            origin=origin[:200],
            address=address or None,
            created_at=now,
            requested_kind=kind,
            visitor_asked=True,
            last_visitor_at=now,
        )
        _append(c, sender=Message.Sender.VISITOR, text=body, now=now)
        c.save(update_fields=["last_seq"])
        _audit(None, "chat.message_left", c, kind=kind)
        _queue_changed(c, "left")
        pk = c.pk
        transaction.on_commit(lambda: _left_message_hook(pk))
    return c


def _left_message_hook(pk: int) -> None:
    """After the message is safely stored: try to make it an order (the sweep retries what fails)."""
    try:
        left_message_to_ticket(conversation_id=pk)
    except Exception:  # noqa: BLE001 - the visitor's message is stored; the sweep tries again
        log.exception("left message %s: automatic order failed", pk)


def _least_loaded(s: ChatSettings) -> int | None:
    ids = online_agents(s.team_id)
    if not ids:
        return None
    loads = dict(
        Conversation.objects.filter(agent_id__in=ids, status=workflow.ACTIVE)
        .values_list("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    free = [(loads.get(i, 0), i) for i in ids if loads.get(i, 0) < s.max_concurrent]
    return min(free)[1] if free else None


def visitor_send(
    *,
    groups: frozenset[str],
    token_id: int | None,
    conversation_id: Any,
    text: Any,
    client_id: Any,
    address: str = "",
    now: datetime | None = None,
) -> Message:
    now = _now(now)
    text = clean_text(text)
    cid = _client_id(client_id)
    key = f"{token_id}:{address}"
    if not hit("chat-visitor-msg", key, limit=30, window_s=60, now=now.timestamp()):
        raise ValidationFailed(
            "发送过于频繁，请稍后再试。",
            "Too many messages; slow down.",
            code=ChatCode.RATE_LIMITED,
            status=429,
        )
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise NotFound()
    if f"chat.{conversation_id}" in groups:
        m = _visitor_text_fast(conversation_id, text=text, cid=cid, now=now)
        if m is not None:
            return m
    # A resend, a closed or a missing conversation: the full path answers (stored message or error).
    return _visitor_posts(
        groups,
        conversation_id,
        cid,
        now,
        lambda c: _append(c, sender=Message.Sender.VISITOR, text=text, client_id=cid, now=now),
    )


# One statement takes the conversation's row lock, checks it is open and hands out the next seq.
_NEXT_VISITOR_SEQ = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, visitor_asked = %s, last_visitor_at = %s"
    " WHERE id = %s AND status IN (%s, %s) RETURNING last_seq"
)


_INSERT_MESSAGE = (
    "INSERT INTO chat_message (conversation_id, seq, sender, author_id, client_id, kind, text, data,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def _insert_message(m: Message) -> Message:
    """``m.save()`` without compiling an INSERT per message (the hot path's largest ORM cost)."""
    with connection.cursor() as cur:
        cur.execute(
            _INSERT_MESSAGE,
            [
                m.conversation_id,
                m.seq,
                m.sender,
                m.author_id,
                m.client_id,
                m.kind,
                m.text,
                Message._meta.get_field("data").get_db_prep_save(m.data, connection),
                connection.ops.adapt_datetimefield_value(m.created_at),
            ],
        )
        m.pk = cur.fetchone()[0]
    m._state.adding, m._state.db = False, connection.alias
    return m


def _visitor_text_fast(pk: int, *, text: str, cid: str, now: datetime) -> Message | None:
    """A visitor's text message in three statements (UPDATE … RETURNING, INSERT, COMMIT).

    This is the path of nearly every message, so it does not read the conversation first: the
    UPDATE locks the row until commit (the same order guarantee as ``_lock``) and returns the seq.
    None when the conversation is not open, or when the client id was already stored (the unique
    constraint refuses the INSERT and everything rolls back): the caller's full path answers.
    """
    return _text_fast(
        pk,
        _NEXT_VISITOR_SEQ,
        [True, connection.ops.adapt_datetimefield_value(now), pk, *sorted(workflow.OPEN)],
        Message(
            sender=Message.Sender.VISITOR, client_id=cid, kind="text", text=text, data={}, created_at=now
        ),
    )


def _text_fast(pk: int, next_seq: str, params: list[Any], m: Message, after: Any = None) -> Message | None:
    """The fast paths' shared step: ``next_seq`` (an UPDATE … RETURNING last_seq that locks the row and
    checks it may take the message) then the INSERT and the push, in one transaction; ``after(m)`` runs
    inside it. None when the UPDATE matched no row, or the client id was already stored."""
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(next_seq, params)
                row = cur.fetchone()
            if row is None:
                return None
            m.conversation_id, m.seq = pk, row[0]
            _insert_message(m)
            realtime.publish(f"chat.{pk}", "chat.message", message_frame(m), seq=m.seq)
            if after is not None:
                after(m)
    except IntegrityError:
        if not m.client_id:
            raise
        return None
    return m


def _visitor_posts(
    groups: frozenset[str],
    conversation_id: Any,
    cid: str,
    now: datetime,
    write: Callable[[Conversation], Message],
) -> Message:
    """A visitor's message or file, once per client id, into an open conversation (row locked)."""
    with transaction.atomic():
        c = conversation_for_visitor(groups, conversation_id, lock=True)
        if cid:
            dup = Message.objects.filter(conversation=c, sender=Message.Sender.VISITOR, client_id=cid).first()
            if dup is not None:
                return dup
        if c.status not in workflow.OPEN:
            raise Conflict("会话已结束。", "The conversation has ended.", code=ChatCode.CONVERSATION_CLOSED)
        m = write(c)
        c.visitor_asked, c.last_visitor_at = True, now
        c.save(update_fields=["last_seq", "visitor_asked", "last_visitor_at"])
    return m


def visitor_read(*, groups: frozenset[str], conversation_id: Any, seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationFailed("seq 不正确。", "Invalid seq.", fields=[{"field": "seq"}])
    with transaction.atomic():
        c = conversation_for_visitor(groups, conversation_id, lock=True)
        seq = min(seq, c.last_seq)
        if seq > c.visitor_read_seq:
            c.visitor_read_seq = seq
            c.save(update_fields=["visitor_read_seq"])
            realtime.publish(c.group, "chat.read", {"by": "visitor", "seq": seq}, ephemeral=True)


def visitor_leave(
    *, groups: frozenset[str], conversation_id: Any, now: datetime | None = None
) -> Conversation:
    now = _now(now)
    with transaction.atomic():
        c = conversation_for_visitor(groups, conversation_id, lock=True)
        to = workflow.target("visitor_leave", c.status)
        if to is None:
            return c
        c.status, c.closed_at, c.closed_by = to, now, Conversation.ClosedBy.VISITOR
        _append(
            c,
            sender=Message.Sender.SYSTEM,
            kind="event",
            text="访客已离开。",
            now=now,
            data={"event": "left"},
        )
        c.save()
        if to == workflow.CLOSED:
            _keep_transcript(c, now)
        _audit(None, "chat.closed", c, by="visitor", status=to)
        _queue_changed(c, "closed")
        if to == workflow.ABANDONED and c.token_id:
            rt.visitor_token_revoke(token_id=c.token_id, now=now)
    return c


def conversation_rate(
    *,
    groups: frozenset[str],
    conversation_id: Any,
    rating: Any,
    comment: Any = "",
    now: datetime | None = None,
) -> Conversation:
    now = _now(now)
    if rating not in Conversation.Rating.values:
        raise ValidationFailed(
            "请选择满意、一般或不满意。",
            "Choose satisfied, neutral or unsatisfied.",
            fields=[{"field": "rating"}],
        )
    comment = clean_text(comment, field="comment", limit=500, required=False)
    with transaction.atomic():
        c = conversation_for_visitor(groups, conversation_id, lock=True)
        if c.status != workflow.CLOSED:
            raise Conflict(
                "会话结束后才能评价。",
                "You can rate once the conversation has ended.",
                code=ChatCode.NOT_CLOSED,
            )
        if c.rating:
            raise Conflict(
                "您已评价过本次会话。",
                "You have already rated this conversation.",
                code=ChatCode.ALREADY_RATED,
            )
        c.rating, c.rating_comment, c.rated_at = rating, comment, now
        _append(
            c,
            sender=Message.Sender.SYSTEM,
            kind="event",
            text="访客已评价。",
            now=now,
            data={"event": "rated", "rating": rating},
        )
        c.save()
        _audit(None, "chat.rated", c, rating=rating)
        if c.token_id:
            rt.visitor_token_revoke(token_id=c.token_id, now=now)  # the token dies with the conversation
    return c


# -- the agent's side -----------------------------------------------------------


def _greeting() -> str:
    return norms.template_text(purpose="greeting", channel="online") or GREETING_FALLBACK


def _accept(c: Conversation, user: User, now: datetime) -> None:
    c.status, c.agent, c.accepted_at = workflow.ACTIVE, user, c.accepted_at or now
    _append(c, sender=Message.Sender.AGENT, author=user, kind="greeting", text=_greeting(), now=now)
    c.save()
    _audit(user, "chat.accepted", c)
    _queue_changed(c, "accepted")


def conversation_accept(*, actor: Actor, conversation_id: Any, now: datetime | None = None) -> Conversation:
    actor.require("chat.work")
    now = _now(now)
    s = chat_settings()
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        if workflow.target("accept", c.status) is None:
            raise Conflict(
                "该会话已被接入或已结束。",
                "The conversation was already accepted or has ended.",
                code=ChatCode.NOT_WAITING,
            )
        if active_count(actor.user.pk) >= s.max_concurrent:
            raise Conflict(
                f"您同时进行的会话已达上限({s.max_concurrent})。",
                f"You already hold the maximum of {s.max_concurrent} conversations.",
                code=ChatCode.AT_CAPACITY,
            )
        _accept(c, actor.user, now)
    return c


def agent_send(
    *,
    actor: Actor,
    conversation_id: Any,
    text: Any,
    client_id: Any,
    confirmed: bool = False,
    cite_article: Any = None,
    now: datetime | None = None,
) -> Message:
    """An agent's message: the norms check first (第六条); a block is an error with the reason, nothing stored."""
    actor.require("chat.work")
    now = _now(now)
    text = clean_text(text)
    cid = _client_id(client_id)
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise NotFound()
    holder, team_id, dup = _agent_precheck(conversation_id, visible_team_ids(actor), cid)
    if dup is not None:  # a resend: the stored message, no second check
        return dup
    if holder != actor.user.pk:
        raise Conflict("该会话不在您名下。", "You do not hold this conversation.", code=ChatCode.NOT_HOLDER)
    # The one norms check (kefu.norms): before our transaction, so a refused attempt stays recorded.
    result = norms.text_screen(
        actor=actor,
        text=text,
        channel="chat",
        contact_kind="chat",
        contact_id=conversation_id,
        confirmed=bool(confirmed),
        now=now,
    )
    data: dict[str, Any] = {}
    if result.hits:
        data["norms"] = norms.result_codes(result)
    article = _article(cite_article)
    if article is not None:
        data["cite"] = article
    m = _agent_text_fast(
        conversation_id, actor=actor, team_id=team_id, text=text, cid=cid, now=now, data=data, cited=article
    )
    if m is not None:
        return m
    # Closed, transferred or resent in between: the full path under the lock answers.
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        if cid:
            dup = Message.objects.filter(conversation=c, sender=Message.Sender.AGENT, client_id=cid).first()
            if dup is not None:
                return dup
        _holder(actor, c)
        if c.status != workflow.ACTIVE:
            raise Conflict("会话已结束。", "The conversation has ended.", code=ChatCode.CONVERSATION_CLOSED)
        m = _append(
            c, sender=Message.Sender.AGENT, author=actor.user, text=text, client_id=cid, now=now, data=data
        )
        fields = ["last_seq", "agent_read_seq"]
        c.agent_read_seq = c.last_seq
        if c.first_response_at is None:
            c.first_response_at = now
            fields.append("first_response_at")
        if article is not None and not c.kb_answered:
            c.kb_answered = True
            fields.append("kb_answered")
        c.save(update_fields=fields)
        if article is not None:
            _propose_question(actor, c.pk, m.seq, article["article"])
    return m


def _agent_precheck(pk: int, teams: frozenset[int], cid: str) -> tuple[int | None, int, Message | None]:
    """The holder and team of a conversation of the agent's teams, and the message already stored
    under ``cid``, in one statement; a conversation of another team, or none, is the 404 of a missing one.
    """
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.agent_id, c.team_id, (SELECT m.id FROM chat_message m WHERE m.conversation_id = c.id"
            " AND m.sender = %s AND m.client_id = %s AND m.client_id <> '')"
            " FROM chat_conversation c WHERE c.id = %s",
            [Message.Sender.AGENT, cid, pk],
        )
        row = cur.fetchone()
    if row is None or row[1] not in teams:
        raise NotFound()
    dup = Message.objects.select_related("author").get(pk=row[2]) if row[2] is not None else None
    return row[0], row[1], dup


# The same for an agent: still active, still held by this agent, still in the team the agent saw.
_NEXT_AGENT_SEQ = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, agent_read_seq = last_seq + 1,"
    " first_response_at = COALESCE(first_response_at, %s), kb_answered = (kb_answered OR %s)"
    " WHERE id = %s AND status = %s AND agent_id = %s AND team_id = %s RETURNING last_seq"
)


def _agent_text_fast(
    pk: int,
    *,
    actor: Actor,
    team_id: int,
    text: str,
    cid: str,
    now: datetime,
    data: dict[str, Any],
    cited: dict[str, Any] | None,
) -> Message | None:
    """An agent's checked message in three statements, like ``_visitor_text_fast``.

    The UPDATE locks the row and checks, in the same statement, that the conversation is still
    active, held by this agent and in one of their teams; None sends the caller to the full path.
    """
    return _text_fast(
        pk,
        _NEXT_AGENT_SEQ,
        [
            connection.ops.adapt_datetimefield_value(now),
            cited is not None,
            pk,
            workflow.ACTIVE,
            actor.user.pk,
            team_id,
        ],
        Message(
            sender=Message.Sender.AGENT,
            author=actor.user,
            client_id=cid,
            kind="text",
            text=text,
            data=data,
            created_at=now,
        ),
        after=None if cited is None else (lambda m: _propose_question(actor, pk, m.seq, cited["article"])),
    )


def _propose_question(actor: Actor, pk: int, seq: int, article_id: int) -> None:
    """The learning loop, as for an order that cites an article: the visitor's question the agent
    answered (their last text message before this one) is proposed as a similar question."""
    from kefu.knowledge.services import similar_propose

    question = (
        Message.objects.filter(conversation_id=pk, seq__lt=seq, sender=Message.Sender.VISITOR, kind="text")
        .order_by("-seq")
        .values_list("text", flat=True)
        .first()
    )
    if question:
        similar_propose(actor=actor, article_id=article_id, text=question, source_ref=f"chat:{pk}")


def _article(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(
            "引用的知识编号不正确。", "Invalid article id.", fields=[{"field": "cite_article"}]
        )
    from kefu.knowledge.selectors import published_article

    try:
        found = published_article(value)
    except DomainError:
        raise ValidationFailed(
            "引用的知识不存在或未发布。",
            "The cited article does not exist or is not published.",
            fields=[{"field": "cite_article"}],
        ) from None
    if found is None:
        raise ValidationFailed(
            "引用的知识不存在或未发布。",
            "The cited article does not exist or is not published.",
            fields=[{"field": "cite_article"}],
        )
    return {"article": value, "title": str(getattr(found, "title", ""))}


def agent_read(*, actor: Actor, conversation_id: Any, seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationFailed("seq 不正确。", "Invalid seq.", fields=[{"field": "seq"}])
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        seq = min(seq, c.last_seq)
        if seq > c.agent_read_seq:
            c.agent_read_seq = seq
            c.save(update_fields=["agent_read_seq"])
            realtime.publish(c.group, "chat.read", {"by": "agent", "seq": seq}, ephemeral=True)


def conversation_close(*, actor: Actor, conversation_id: Any, now: datetime | None = None) -> Conversation:
    """第六条(八): the agent closes once the visitor has no more questions; closing phrase, then the rating."""
    actor.require("chat.work")
    now = _now(now)
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        _holder(actor, c)
        if workflow.target("close", c.status) is None:
            raise Conflict("会话已结束。", "The conversation has ended.", code=ChatCode.CONVERSATION_CLOSED)
        closing = norms.template_text(purpose="closing", channel="online") or CLOSING_FALLBACK
        _append(c, sender=Message.Sender.AGENT, author=actor.user, kind="closing", text=closing, now=now)
        _append(
            c,
            sender=Message.Sender.SYSTEM,
            kind="event",
            text="请为本次服务评价。",
            now=now,
            data={"event": "rate_request"},
        )
        c.status, c.closed_at, c.closed_by = workflow.CLOSED, now, Conversation.ClosedBy.AGENT
        c.save()
        _keep_transcript(c, now)
        _audit(actor.user, "chat.closed", c, by="agent")
        _queue_changed(c, "closed")
    return c


def conversations_idle_close(*, now: datetime | None = None) -> int:
    """第六条(七): a visitor who asks nothing within N minutes of the greeting is thanked and the chat closes."""
    now = _now(now)
    s = chat_settings()
    cutoff = now - timedelta(minutes=s.idle_minutes)
    ids = list(
        Conversation.objects.filter(
            status=workflow.ACTIVE, visitor_asked=False, accepted_at__lte=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            c = _lock(pk)
            if (
                c is None
                or c.status != workflow.ACTIVE
                or c.visitor_asked
                or not c.accepted_at
                or c.accepted_at > cutoff
            ):
                continue
            text = norms.template_text(purpose="silent_visitor", channel="online") or SILENT_FALLBACK
            _append(c, sender=Message.Sender.AGENT, author=c.agent, kind="closing", text=text, now=now)
            c.status, c.closed_at, c.closed_by = workflow.CLOSED, now, Conversation.ClosedBy.IDLE
            c.save()
            _keep_transcript(c, now)
            _audit(None, "chat.closed", c, by="idle")
            _queue_changed(c, "closed")
            if c.token_id:
                rt.visitor_token_revoke(token_id=c.token_id, now=now)
            closed += 1
    return closed


def conversation_transfer(
    *,
    actor: Actor,
    conversation_id: Any,
    reason: Any,
    to_team_id: Any = None,
    to_agent_id: Any = None,
    note: Any = "",
    now: datetime | None = None,
) -> Conversation:
    """Hand over to another agent of the team or to another team, with a reason code (首问负责制: counted)."""
    actor.require("chat.work")
    now = _now(now)
    if reason not in Transfer.Reason.values:
        raise ValidationFailed("请选择转接原因。", "Choose a transfer reason.", fields=[{"field": "reason"}])
    note = clean_text(note, field="note", limit=300, required=False)
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        if c.status == workflow.ACTIVE:
            _holder(actor, c)
        elif workflow.target("transfer", c.status) is None:
            raise Conflict("会话已结束。", "The conversation has ended.", code=ChatCode.CONVERSATION_CLOSED)
        to_team = c.team
        if to_team_id is not None:
            if not isinstance(to_team_id, int) or isinstance(to_team_id, bool):
                raise ValidationFailed("目标团队不正确。", "Invalid team.", fields=[{"field": "to_team"}])
            found = Team.objects.filter(pk=to_team_id).first()
            if found is None:
                raise ValidationFailed("目标团队不存在。", "No such team.", fields=[{"field": "to_team"}])
            to_team = found
        to_agent = None
        if to_agent_id is not None:
            if not isinstance(to_agent_id, int) or isinstance(to_agent_id, bool):
                raise ValidationFailed("目标坐席不正确。", "Invalid agent.", fields=[{"field": "to_agent"}])
            to_agent = User.objects.filter(
                pk=to_agent_id, is_active=True, memberships__team=to_team, memberships__is_active=True
            ).first()
            if to_agent is None:
                raise ValidationFailed(
                    "目标坐席不在该团队。", "That agent is not in the team.", fields=[{"field": "to_agent"}]
                )
        if to_team.pk == c.team_id and to_agent is None:
            raise ValidationFailed(
                "请选择另一个团队或坐席。", "Choose another team or agent.", fields=[{"field": "to_team"}]
            )
        Transfer.objects.create(
            conversation=c,
            from_team=c.team,
            to_team=to_team,
            from_agent=c.agent or actor.user,
            to_agent=to_agent,
            reason=reason,
            note=note,
            at=now,
        )
        old_team = c.team_id
        c.team, c.agent, c.status, c.transfers = to_team, None, workflow.WAITING, c.transfers + 1
        _append(
            c,
            sender=Message.Sender.SYSTEM,
            kind="event",
            text="正在为您转接，请稍候。",
            now=now,
            data={"event": "transferred"},
        )
        c.save()
        _audit(
            actor.user,
            "chat.transferred",
            c,
            from_team=old_team,
            to_team=to_team.pk,
            to_agent=to_agent.pk if to_agent else None,
            reason=reason,
        )
        realtime.publish(
            f"team.{old_team}",
            "chat.queue",
            {"what": "transferred_out", "conversation": conversation_frame(c)},
        )
        _queue_changed(c, "waiting")
        if to_agent is not None:
            realtime.publish(f"user.{to_agent.pk}", "chat.offered", {"conversation": conversation_frame(c)})
    return c


def note_add(*, actor: Actor, conversation_id: Any, text: Any, now: datetime | None = None) -> Note:
    actor.require("chat.work")
    text = clean_text(text, limit=1000)
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        n = Note.objects.create(conversation=c, author=actor.user, text=text, created_at=_now(now))
        realtime.publish(
            f"team.{c.team_id}",
            "chat.note",
            {
                "conversation": c.pk,
                "text": text,
                "author": actor.user.display_name or actor.user.username,
                "at": n.created_at.isoformat(),
            },
        )
    return n


def transcript(c: Conversation) -> str:
    lines = []
    for m in c.messages.select_related("author").order_by("seq"):
        who = {
            "visitor": c.visitor_name,
            "agent": (m.author.display_name if m.author else "坐席"),
            "system": "系统",
        }
        at = timezone.localtime(m.created_at, audit.DISPLAY_TZ).strftime("%m-%d %H:%M:%S")
        text = f"[文件] {m.text}" if m.kind == "file" else m.text
        lines.append(f"[{at}] {who.get(m.sender, m.sender)}：{text}")
    return "\n".join(lines)


def conversation_to_ticket(
    *,
    actor: Actor,
    conversation_id: Any,
    kind: Any,
    subject: Any,
    customer_id: Any = None,
    category: Any = None,
    now: datetime | None = None,
) -> Any:
    """A consultation, complaint or fault order prefilled with customer and transcript, linked both ways."""
    from kefu.customers.selectors import customer_in_scope
    from kefu.tickets.selectors import category_by_code

    actor.require("ticket.create")
    now = _now(now)
    if kind not in ("consultation", "complaint", "fault"):
        raise ValidationFailed(
            "请选择咨询、投诉或故障申告。",
            "Choose consultation, complaint or fault.",
            fields=[{"field": "kind"}],
        )
    subject = clean_text(subject, field="subject", limit=200)
    if category is not None and not isinstance(category, str):
        raise ValidationFailed("分类不正确。", "Invalid category.", fields=[{"field": "category"}])
    cat = category_by_code(category or None)
    c = conversation_for_agent(actor, conversation_id)
    if c.ticket_id:
        raise Conflict(
            "该会话已生成工单。", "This conversation already has a work order.", code=ChatCode.ALREADY_LINKED
        )
    contact = c.possible_contact
    if customer_id is None and contact is not None:
        customer_id = contact.customer_id
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        raise ValidationFailed("请选择客户。", "Choose the customer.", fields=[{"field": "customer"}])
    customer = customer_in_scope(actor.scope, customer_id)
    if contact is not None and contact.customer_id != customer.pk:
        contact = None
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        if c.ticket_id:
            raise Conflict(
                "该会话已生成工单。",
                "This conversation already has a work order.",
                code=ChatCode.ALREADY_LINKED,
            )
        return _order_from(
            c,
            actor=actor,
            kind=kind,
            customer=customer,
            contact=contact,
            subject=subject,
            category=cat,
            now=now,
        )


def _order_from(
    c: Conversation,
    *,
    actor: Actor,
    kind: str,
    customer: Any,
    contact: Contact | None,
    subject: str,
    category: Any,
    now: datetime,
) -> Any:
    """Create the order of a locked conversation: transcript in the description and as a file, the
    conversation's files copied (same rules), both linked; the caller's transaction."""
    from kefu.tickets import attachments as ticket_files
    from kefu.tickets import services as tickets

    text = transcript(c)
    visitor = f"访客：{c.visitor_name}；单位：{c.visitor_unit or '-'}；电话：{c.visitor_phone or '-'}"
    created = tickets.ticket_create(
        actor=actor,
        kind=kind,
        customer=customer,
        subject=subject,
        description=f"{visitor}\n在线会话 #{c.pk} 记录：\n{text}"[:5000],
        contact=contact,
        caller_phone=c.visitor_phone,
        category=category,
        team=c.team,
        now=now,
    )
    t = created.ticket
    ticket_files.attachment_add(
        actor=actor,
        ticket=t,
        upload=ticket_files.Upload(name=f"在线会话{c.pk}记录.txt", content=text.encode()),
        now=now,
    )
    for a in c.files.filter(is_transcript=False).order_by("pk"):
        ticket_files.attachment_add(
            actor=actor,
            ticket=t,
            upload=ticket_files.Upload(name=a.original_name, content=files.read_bytes(a)),
            now=now,
        )
    c.ticket = t
    c.save(update_fields=["ticket"])
    _audit(actor.user, "chat.ticket_created", c, ticket=t.number)
    # The order's own timeline shows where it came from.
    audit.record(
        actor=actor.user,
        verb="chat.ticket_created",
        target=t,
        data={"conversation": c.pk},
        province_code=customer.province.code,
    )
    return t


# -- a left message becomes an order by itself (第三条(四): the hotline's flow) ----------------


def _left_message_actor(s: ChatSettings) -> Actor | None:
    """Who records the automatic orders: the configured agent, else the team's first member who may."""
    from kefu.org.access import actor_for

    candidates: list[User] = []
    if s.left_message_agent_id and s.left_message_agent and s.left_message_agent.is_active:
        candidates.append(s.left_message_agent)
    candidates += list(
        User.objects.filter(
            is_active=True, memberships__team_id=s.team_id, memberships__is_active=True
        ).order_by("pk")[:50]
    )
    for user in candidates:
        actor = actor_for(user)
        if any(seat.team_id == s.team_id for seat in actor.seats_with("ticket.create")) and actor.can(
            "ticket.work"
        ):
            return actor
    return None


def _left_message_customer(c: Conversation) -> tuple[Any, Contact | None]:
    """The possible customer (by phone), else the one active customer whose name is the unit as typed."""
    from kefu.customers.models import Customer

    if c.possible_contact_id and c.possible_contact is not None:
        contact = c.possible_contact
        return contact.customer, contact
    if c.visitor_unit:
        found = list(
            Customer.objects.unscoped("chat: the left message's unit, matched by exact name")
            .filter(name=c.visitor_unit, is_active=True)
            .select_related("province")[:2]
        )
        if len(found) == 1:
            return found[0], None
    return None, None


UNMATCHED_NAME = customer_services.UNIDENTIFIED_NAME


def _unmatched_customer(c: Conversation, actor: Actor) -> Any:
    """The province's 未识别客户（在线留言） account, for a left message whose visitor matches no customer.

    An order needs a customer and a province (kefu.tickets); the visitor's own name, unit and phone
    go on the order itself. The province is the one the visitor's phone number belongs to; None (the
    message stays in 留言 for an agent) when the number tells none.
    """
    province = customer_services.province_of_number(c.visitor_phone)
    if province is None:
        return None
    return customer_services.unidentified_account(
        province=province, actor=actor, verb="chat.unmatched_customer_created", data={"conversation": c.pk}
    )


LEFT_FAULT_CATEGORY = "cf_other"


def left_message_to_ticket(*, conversation_id: int, now: datetime | None = None) -> Any:
    """Turn a left message into a consultation or fault order of the online team, once.

    Idempotent: under the conversation's lock, a message already linked returns its order.
    A visitor who matches no customer (by phone or unit) gets the order too, on the
    未识别客户（在线留言） account of the province of their phone number, with their name,
    unit and phone on the order; only when the number tells no province (or nobody may
    record orders) does it stay in the console's 留言 list for an agent (None).
    """
    from kefu.tickets.selectors import category_by_code

    now = _now(now)
    s = chat_settings()
    with transaction.atomic():
        c = _lock(conversation_id)
        if c is None or c.status != Conversation.Status.LEFT_MESSAGE:
            return None
        if c.ticket_id:
            return c.ticket
        customer, contact = _left_message_customer(c)
        actor = _left_message_actor(s)
        if actor is None:
            return None
        if customer is None:
            customer = _unmatched_customer(c, actor)
            if customer is None:
                return None
        kind = c.requested_kind or "consultation"
        first = c.messages.filter(sender=Message.Sender.VISITOR).order_by("seq").first()
        summary = (first.text if first else "").replace("\n", " ")[:60]
        t = _order_from(
            c,
            actor=actor,
            kind=kind,
            customer=customer,
            contact=contact,
            subject=f"在线留言：{summary}" if summary else "在线留言",
            # A fault needs a category: 其他 until the agent who calls back classifies it.
            category=category_by_code(LEFT_FAULT_CATEGORY) if kind == "fault" else None,
            now=now,
        )
        _queue_changed(c, "left_ordered")
    return t


def left_messages_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Retry left messages of the last day that are not yet orders (a failed hook, a customer added since)."""
    now = _now(now)
    ids = list(
        Conversation.objects.filter(
            status=Conversation.Status.LEFT_MESSAGE,
            ticket__isnull=True,
            created_at__gte=now - timedelta(days=1),
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    made = 0
    for pk in ids:
        try:
            if left_message_to_ticket(conversation_id=pk, now=now) is not None:
                made += 1
        except DomainError as exc:  # one bad row must not stop the others; it stays in the 留言 list
            log.warning("left message %s not turned into an order: %s", pk, exc)
    return made


# -- files and images (the work-order attachment rules) -----------------------------


def _file_message(
    c: Conversation,
    *,
    sender: str,
    upload: files.Upload,
    client_id: str,
    now: datetime,
    user: User | None = None,
) -> Message:
    """Store a checked file and its message in the caller's transaction (conversation locked)."""
    name, content_type = files.check(upload)
    if c.files.filter(is_transcript=False).count() >= files.MAX_PER_CONVERSATION:
        raise ValidationFailed(
            f"每个会话最多发送 {files.MAX_PER_CONVERSATION} 个文件。",
            "Too many files in this conversation.",
            code=ChatCode.FILE_COUNT,
            fields=[{"field": "file", "type": "file_count"}],
        )
    att = files.store(
        c, name=name, content_type=content_type, content=upload.content, sender=sender, now=now, user=user
    )
    m = _append(
        c,
        sender=sender,
        author=user,
        text=name,
        client_id=client_id,
        kind="file",
        now=now,
        data={"file": files.file_frame(att)},
    )
    att.message = m
    att.save(update_fields=["message"])
    return m


def visitor_file_send(
    *,
    groups: frozenset[str],
    token_id: int | None,
    conversation_id: Any,
    upload: files.Upload,
    client_id: Any,
    address: str = "",
    now: datetime | None = None,
) -> Message:
    """A visitor's image or file: checked like a work-order attachment, stored, then acknowledged."""
    now = _now(now)
    cid = _client_id(client_id)
    files.check(upload)  # refuse bad files before counting them against the limit
    if not hit("chat-visitor-file", f"{token_id}:{address}", limit=10, window_s=600, now=now.timestamp()):
        raise ValidationFailed(
            "发送文件过于频繁，请稍后再试。",
            "Too many files; slow down.",
            code=ChatCode.RATE_LIMITED,
            status=429,
        )
    return _visitor_posts(
        groups,
        conversation_id,
        cid,
        now,
        lambda c: _file_message(c, sender=Message.Sender.VISITOR, upload=upload, client_id=cid, now=now),
    )


def agent_file_send(
    *, actor: Actor, conversation_id: Any, upload: files.Upload, client_id: Any, now: datetime | None = None
) -> Message:
    """An agent's image or file to the visitor: only the agent holding the conversation, while it is active."""
    actor.require("chat.work")
    now = _now(now)
    cid = _client_id(client_id)
    files.check(upload)
    with transaction.atomic():
        c = conversation_for_agent(actor, conversation_id, lock=True)
        if cid:
            dup = Message.objects.filter(conversation=c, sender=Message.Sender.AGENT, client_id=cid).first()
            if dup is not None:
                return dup
        _holder(actor, c)
        if c.status != workflow.ACTIVE:
            raise Conflict("会话已结束。", "The conversation has ended.", code=ChatCode.CONVERSATION_CLOSED)
        m = _file_message(
            c, sender=Message.Sender.AGENT, upload=upload, client_id=cid, now=now, user=actor.user
        )
        fields = ["last_seq"]
        if c.first_response_at is None:
            c.first_response_at = now
            fields.append("first_response_at")
        c.save(update_fields=fields)
    return m


def file_for_agent(actor: Actor, pk: int) -> Attachment:
    """A file of a conversation of the actor's teams (a province desk's only once transferred there)."""
    actor.require("chat.work")
    found = (
        Attachment.objects.select_related("conversation")
        .filter(pk=pk, conversation__team_id__in=visible_team_ids(actor))
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def file_for_visitor(groups: frozenset[str], pk: int) -> Attachment:
    """A file of the visitor's own conversation (the transcript is the agents' record, not theirs)."""
    ids = [int(g.split(".", 1)[1]) for g in groups if g.startswith("chat.") and g[5:].isdigit()]
    found = Attachment.objects.filter(pk=pk, conversation_id__in=ids, is_transcript=False).first()
    if found is None:
        raise NotFound()
    return found


def _keep_transcript(c: Conversation, now: datetime) -> None:
    """At the end of a conversation its transcript is kept as a text file on the record (once)."""
    if c.files.filter(is_transcript=True).exists():
        return
    files.store(
        c,
        name=f"在线会话{c.pk}记录.txt",
        content_type="text/plain; charset=utf-8",
        content=transcript(c).encode(),
        sender=Message.Sender.SYSTEM,
        now=now,
        is_transcript=True,
    )


def waiting_and_mine(actor: Actor) -> dict[str, list[Conversation]]:
    teams = visible_team_ids(actor)
    base = Conversation.objects.filter(team_id__in=teams).select_related("possible_contact__customer", "team")
    return {
        "waiting": list(base.filter(status=workflow.WAITING).order_by("created_at")[:100]),
        "mine": list(base.filter(status=workflow.ACTIVE, agent=actor.user).order_by("accepted_at")),
        "left": list(
            base.filter(status=Conversation.Status.LEFT_MESSAGE, ticket__isnull=True).order_by("created_at")[
                :50
            ]
        ),
        "recent": list(
            base.filter(
                Q(agent=actor.user) | Q(agent__isnull=True), status__in=[workflow.CLOSED, workflow.ABANDONED]
            ).order_by("-closed_at")[:10]
        ),
    }
