"""Chat on the shared socket: the ``chat.<id>`` group kind and the ``chat.*`` actions.

Every handler names the conversation by id and is authorised here: a visitor
only by the conversation group written into their token, an agent only for
conversations of their teams (holding it, for what changes it).
"""

from __future__ import annotations

from typing import Any

from kefu.core.errors import NotFound, ValidationFailed
from kefu.org.access import Actor
from kefu.realtime.actions import register_action
from kefu.realtime.groups import GroupKind, register_kind
from kefu.realtime.principal import Principal

from . import services, suggest
from .models import Conversation, Message

# -- the group kind -------------------------------------------------------------


def _authorize(actor: Actor, key: str) -> bool:
    return (
        key.isdigit()
        and Conversation.objects.filter(pk=int(key), team_id__in=services.visible_team_ids(actor)).exists()
    )


def _reader(group: str, since: int, limit: int) -> tuple[list[tuple[int, str, dict[str, Any]]], int]:
    pk = int(group.split(".", 1)[1])
    latest = Conversation.objects.filter(pk=pk).values_list("last_seq", flat=True).first() or 0
    rows = (
        Message.objects.filter(conversation_id=pk, seq__gt=since)
        .select_related("author")
        .order_by("seq")[:limit]
    )
    return [(m.seq, "chat.message", services.message_frame(m)) for m in rows], latest


register_kind(GroupKind("chat", authorize=_authorize, reader=_reader))


# -- helpers -------------------------------------------------------------------


def _agent(p: Principal) -> Actor:
    if p.actor is None:
        raise NotFound()
    return p.actor


def _visitor(p: Principal) -> frozenset[str]:
    if p.token_id is None:
        raise NotFound()
    return p.visitor_groups


def _conv(frame: dict[str, Any]) -> Any:
    return frame.get("conversation")


def _seq(frame: dict[str, Any], field: str = "since") -> int:
    value = frame.get(field, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(
            f"{field} 必须是非负整数。",
            f"{field} must be a non-negative integer.",
            fields=[{"field": field}],
        )
    return value


# -- visitor and shared actions ------------------------------------------------------


def start(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c, raw = services.conversation_start(
        name=f.get("name"),
        unit=f.get("unit", ""),
        phone=f.get("phone", ""),
        text=f.get("text", ""),
        address=p.address,
        origin=p.origin,
    )
    return {"conversation": c.pk, "token": raw, "group": c.group, "status": c.status}


def leave_message(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.message_leave(
        name=f.get("name"),
        unit=f.get("unit", ""),
        phone=f.get("phone", ""),
        kind=f.get("kind"),
        text=f.get("text"),
        address=p.address,
        origin=p.origin,
    )
    return {"received": True, "reference": c.pk}


def send(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    if p.kind == "agent":
        m = services.agent_send(
            actor=_agent(p),
            conversation_id=_conv(f),
            text=f.get("text"),
            client_id=f.get("client_id"),
            confirmed=f.get("confirmed") is True,
            cite_article=f.get("cite_article"),
        )
    else:
        m = services.visitor_send(
            groups=_visitor(p),
            token_id=p.token_id,
            conversation_id=_conv(f),
            text=f.get("text"),
            client_id=f.get("client_id"),
            address=p.address,
        )
    return {"seq": m.seq, "id": m.pk, "client_id": m.client_id}


def read(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    if p.kind == "agent":
        services.agent_read(actor=_agent(p), conversation_id=_conv(f), seq=f.get("seq"))
    else:
        services.visitor_read(groups=_visitor(p), conversation_id=_conv(f), seq=f.get("seq"))
    return {}


def typing(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    from kefu import realtime

    if p.kind == "agent":
        c = services.conversation_for_agent(_agent(p), _conv(f))
    else:
        c = services.conversation_for_visitor(_visitor(p), _conv(f))
    realtime.publish(
        c.group, "chat.typing", {"by": "agent" if p.kind == "agent" else "visitor"}, ephemeral=True
    )
    return {}


def state(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    """The conversation and its messages after ``since`` (a resuming client's first request)."""
    since = _seq(f)
    if p.kind == "agent":
        c = services.conversation_for_agent(_agent(p), _conv(f))
    else:
        c = services.conversation_for_visitor(_visitor(p), _conv(f))
    rows, _latest = _reader(c.group, since, 1000)
    body: dict[str, Any] = {"conversation": services.conversation_frame(c), "messages": [r[2] for r in rows]}
    if p.kind == "agent":
        body["visitor"] = {
            "name": c.visitor_name,
            "unit": c.visitor_unit,
            "phone": c.visitor_phone,
            "possible_customer": (
                {
                    "id": c.possible_contact.customer_id,
                    "name": c.possible_contact.customer.name,
                    "contact": c.possible_contact.name,
                }
                if c.possible_contact_id and c.possible_contact
                else None
            ),
            "origin": c.origin,
        }
        body["notes"] = [
            {
                "text": n.text,
                "author": n.author.display_name or n.author.username,
                "at": n.created_at.isoformat(),
            }
            for n in c.notes.select_related("author").order_by("id")
        ]
        body["ticket"] = c.ticket.number if c.ticket_id and c.ticket else None
    return body


def leave(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.visitor_leave(groups=_visitor(p), conversation_id=_conv(f))
    return {"status": c.status}


def rate(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.conversation_rate(
        groups=_visitor(p), conversation_id=_conv(f), rating=f.get("rating"), comment=f.get("comment", "")
    )
    return {"rating": c.rating}


def availability(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    return services.availability()


# -- agent actions ---------------------------------------------------------------


def accept(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.conversation_accept(actor=_agent(p), conversation_id=_conv(f))
    return {"conversation": services.conversation_frame(c)}


def close(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.conversation_close(actor=_agent(p), conversation_id=_conv(f))
    return {"conversation": services.conversation_frame(c)}


def transfer(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.conversation_transfer(
        actor=_agent(p),
        conversation_id=_conv(f),
        reason=f.get("reason"),
        to_team_id=f.get("to_team"),
        to_agent_id=f.get("to_agent"),
        note=f.get("note", ""),
    )
    return {"conversation": services.conversation_frame(c)}


def note(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    n = services.note_add(actor=_agent(p), conversation_id=_conv(f), text=f.get("text"))
    return {"id": n.pk}


def presence(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    pr = services.presence_set(actor=_agent(p), status=f.get("status"))
    return {"status": pr.status}


def suggestions(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    c = services.conversation_for_agent(_agent(p), _conv(f))
    return {"articles": suggest.for_conversation(c)}


def canned(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    _agent(p).require("chat.work")
    return {"replies": suggest.canned(f.get("q", ""))}


def ticket(p: Principal, f: dict[str, Any]) -> dict[str, Any]:
    t = services.conversation_to_ticket(
        actor=_agent(p),
        conversation_id=_conv(f),
        kind=f.get("kind"),
        subject=f.get("subject"),
        customer_id=f.get("customer"),
        category=f.get("category"),
    )
    return {"ticket": t.number, "url": f"/tickets/{t.number}/"}


for _name, _fn, _who in [
    ("chat.start", start, ("anonymous", "visitor", "agent")),
    ("chat.availability", availability, ("anonymous", "visitor", "agent")),
    ("chat.leave_message", leave_message, ("anonymous", "visitor", "agent")),
    ("chat.send", send, ("agent", "visitor")),
    ("chat.read", read, ("agent", "visitor")),
    ("chat.typing", typing, ("agent", "visitor")),
    ("chat.state", state, ("agent", "visitor")),
    ("chat.leave", leave, ("visitor",)),
    ("chat.rate", rate, ("visitor",)),
    ("chat.accept", accept, ("agent",)),
    ("chat.close", close, ("agent",)),
    ("chat.transfer", transfer, ("agent",)),
    ("chat.note", note, ("agent",)),
    ("chat.presence", presence, ("agent",)),
    ("chat.suggest", suggestions, ("agent",)),
    ("chat.canned", canned, ("agent",)),
    ("chat.ticket", ticket, ("agent",)),
]:
    register_action(_name, _fn, principals=_who)
