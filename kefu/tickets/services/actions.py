"""The one table of order actions.

Each row names the service, the fields it takes (their API type and default, how a form's text or
a code becomes the service's value) and the API summary. The API routes
(``POST /api/tickets/{number}/<path>``, in ``api.py``), the web form dispatch (``views._run_action``)
and ``ACTION_SERVICES`` are all generated from it, so adding an action is one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from kefu.core.api import OneOf
from kefu.org.access import Actor

from .. import selectors
from ..models import AcceptanceOutcome, ReasonCode, ReferredTo, ReplyMethod, ReturnReason, Ticket
from .dispatch import (
    ticket_accept,
    ticket_dispatch,
    ticket_follow_up,
    ticket_return,
    ticket_return_result,
    ticket_submit_to_province,
)
from .replies import (
    ticket_await_customer,
    ticket_close,
    ticket_customer_responded,
    ticket_record_acceptance,
    ticket_refer,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
)
from .supervise import ticket_reassign

REQUIRED: Any = ...


@dataclass(frozen=True)
class Param:
    """One field of an action: the API body's field and the web form's field of the same name."""

    name: str
    type: Any = str  # the API type
    default: Any = ""  # REQUIRED: the API refuses a body without it
    arg: str = ""  # the service's keyword, when it differs from ``name``
    resolve: Callable[[Any], Any] | None = (
        None  # the value -> what the service takes (a team code -> the Team)
    )
    form: Callable[[Any], Any] | None = None  # web only: the form's text -> the value (before ``resolve``)
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Action:
    name: str
    service: Callable[..., Any]
    summary: str  # the API operation's summary, 中文 / English
    params: tuple[Param, ...] = field(default=())
    view_name: str = ""  # the API view function's name (its OpenAPI operation id); default ``name``

    @property
    def path(self) -> str:
        return self.name.replace("_", "-")

    def call(self, *, actor: Actor, ticket: Ticket, version: int | None, values: Mapping[str, Any]) -> Any:
        """Run the service with ``values`` keyed by the params' names (API body or form)."""
        kwargs: dict[str, Any] = {}
        for p in self.params:
            value = values.get(p.name, "" if p.required else p.default)
            if p.resolve is not None:
                value = p.resolve(value)
            kwargs[p.arg or p.name] = value
        return self.service(actor=actor, ticket=ticket, version=version, **kwargs)

    def form_values(self, post: Mapping[str, Any]) -> dict[str, Any]:
        """A web form's fields, as ``call`` takes them (a missing field is empty; the service judges it)."""
        return {
            p.name: p.form(post.get(p.name)) if p.form is not None else post.get(p.name, "")
            for p in self.params
        }


def _team(code: str) -> Any:
    return selectors.team_by_code(code)


def _article_ref(value: Any) -> int | None:
    from kefu.knowledge.selectors import article_ref

    return article_ref(value)  # KB000067, 67 or a title; refused in words


_NOTE = Param("note")
_CONFIRM = Param(
    "confirm_problem",
    bool,
    False,
    description="the customer was told the recorded problem (standard template)",
)
_NORMS_OK = Param(
    "norms_confirmed", bool, False, description="send despite a discouraged phrase (service norms warning)"
)
_TO_TEAM = Param("to_team", str, REQUIRED, resolve=_team)

ACTIONS: tuple[Action, ...] = (
    Action(
        "dispatch",
        ticket_dispatch,
        "派单/转派 / Dispatch",
        (_TO_TEAM, Param("reason_code", Annotated[str, OneOf(ReasonCode)], REQUIRED), _NOTE, _CONFIRM),
    ),
    Action("accept", ticket_accept, "接单 / Accept"),
    Action(
        "return",
        ticket_return,
        "退回派单方 / Return to sender",
        (Param("reason", Annotated[str, OneOf(ReturnReason)], REQUIRED), _NOTE),
        view_name="return_",
    ),
    Action(
        "return_result",
        ticket_return_result,
        "返回处理结果 / Return the result",
        (Param("result", str, REQUIRED),),
    ),
    Action(
        "reply",
        ticket_reply,
        "答复客户 / Reply to the customer",
        (
            Param("method", Annotated[str, OneOf(ReplyMethod)], REQUIRED),
            Param("content", str, REQUIRED),
            _NORMS_OK,
        ),
    ),
    Action(
        "await_customer", ticket_await_customer, "等待客户补充 / Wait for the customer", (_NOTE, _CONFIRM)
    ),
    Action("customer_responded", ticket_customer_responded, "客户已补充 / Customer responded", (_NOTE,)),
    Action(
        "resolve",
        ticket_resolve,
        "办结 / Resolve",
        (
            Param("resolution", str, REQUIRED),
            Param("article_id", int | None, None, form=_article_ref),
            Param("reply_method", Annotated[str, OneOf(ReplyMethod, blank=True)]),
            Param("reply_content"),
            _NORMS_OK,
        ),
    ),
    Action(
        "refer",
        ticket_refer,
        "引导办理渠道 / Refer (acceptance)",
        (Param("referred_to", Annotated[str, OneOf(ReferredTo)], REQUIRED), _NOTE),
    ),
    Action(
        "record_acceptance",
        ticket_record_acceptance,
        "客户经理记录受理结果 / Record acceptance",
        (Param("outcome", Annotated[str, OneOf(AcceptanceOutcome)], REQUIRED), _NOTE),
    ),
    Action("reopen", ticket_reopen, "重新处理 / Reopen", (_NOTE,)),
    Action("close", ticket_close, "归档 / Close"),
    Action(
        "submit_to_province",
        ticket_submit_to_province,
        "报送客户所属省并归档 / Submit to province and archive",
        (_NOTE,),
    ),
    Action(
        "follow_up",
        ticket_follow_up,
        "省专席登记报送投诉的跟进并归档 / Record the follow-up of a submitted complaint",
        (Param("note", str, REQUIRED),),
    ),
    Action(
        "reassign",
        ticket_reassign,
        "主管改派 / Reassign (supervisor)",
        (_TO_TEAM, Param("note", str, REQUIRED), Param("assignee", arg="assignee_username")),
    ),
)

ACTION_BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS}
ACTION_SERVICES: dict[str, Callable[..., Any]] = {a.name: a.service for a in ACTIONS}
