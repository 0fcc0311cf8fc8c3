"""The work-order workflow as one table, and the flows of 第三条 as named paths through it.

Pure: no database. ``kefu.tickets.services`` looks every action up here before
it writes, so the UI, the API, the admin and bulk jobs share one set of rules.
``tests/test_workflow.py`` pins the table.

Who may act: ``holder`` = a member of the team holding the order (for an order
awaiting acceptance, that is the receiving team) with ``ticket.work``;
``system`` = the SLA sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Channel, Kind, Status

CONSULT, ACCEPT, COMPLAIN, FAULT = Kind.CONSULTATION, Kind.ACCEPTANCE, Kind.COMPLAINT, Kind.FAULT
ALL_KINDS = frozenset(Kind)
OPEN, AWAITING, ACCEPTED = Status.OPEN, Status.AWAITING_ACCEPTANCE, Status.ACCEPTED
RETURNED, WAITING, RESOLVED, CLOSED = (
    Status.RESULT_RETURNED,
    Status.WAITING_CUSTOMER,
    Status.RESOLVED,
    Status.CLOSED,
)
SUBMITTED = Status.SUBMITTED

# Team kinds (kefu.org.models.Team.Kind values) that handle work orders.
DESK, AMS, HOTLINE, ONLINE = "province_desk", "account_managers", "hotline", "online"
FRONT_TEAMS = frozenset({DESK, AMS, HOTLINE, ONLINE})
EXPERT_TEAMS = frozenset({HOTLINE, ONLINE})
PROVINCE_CHANNELS = frozenset({Channel.PROVINCE_DESK, Channel.ACCOUNT_MANAGER})
NATIONAL_CHANNELS = frozenset({Channel.HOTLINE, Channel.ONLINE})

CHANNEL_OF_TEAM_KIND: dict[str, Channel] = {
    DESK: Channel.PROVINCE_DESK,
    AMS: Channel.ACCOUNT_MANAGER,
    HOTLINE: Channel.HOTLINE,
    ONLINE: Channel.ONLINE,
}


@dataclass(frozen=True)
class Transition:
    action: str
    source: Status
    target: Status
    kinds: frozenset[Kind] = ALL_KINDS
    channels: frozenset[Channel] | None = None  # None = any channel
    team_kinds: frozenset[str] | None = None  # kind of the acting (holding) team; None = any
    by: str = "holder"  # "holder", "supervisor" (of the holding team) or "system"


def _t(action: str, source: Status, target: Status, **kw: object) -> Transition:
    return Transition(action, source, target, **kw)  # type: ignore[arg-type]


TRANSITIONS: tuple[Transition, ...] = (
    # Hand-off to another team (派单 / 转派), with a reason code. Whether the rules call
    # for it is decided by ``transfer_called_for``; one they do not is flagged, not refused.
    _t("dispatch", OPEN, AWAITING, kinds=frozenset({CONSULT, COMPLAIN, FAULT})),
    # The receiver accepts or returns within the accept deadline; the sweep accepts for it after.
    _t("accept", AWAITING, ACCEPTED),
    _t("auto_accept", AWAITING, ACCEPTED, by="system"),
    _t("return", AWAITING, OPEN),
    # The hotline's answer or result goes back to the sender, who replies to the customer.
    _t("return_result", ACCEPTED, RETURNED, kinds=frozenset({CONSULT, COMPLAIN})),
    # Replies to the customer are actions of their own (who, when, how); status stays.
    _t("reply", OPEN, OPEN),
    _t("reply", ACCEPTED, ACCEPTED, kinds=frozenset({FAULT})),
    _t("reply", RETURNED, RETURNED),
    _t("reply", RESOLVED, RESOLVED),
    # Waiting for the customer pauses the clocks.
    _t("await_customer", OPEN, WAITING, kinds=frozenset({CONSULT, COMPLAIN, FAULT})),
    _t("await_customer", ACCEPTED, WAITING, kinds=frozenset({CONSULT, COMPLAIN, FAULT})),
    _t("customer_responded", WAITING, OPEN),
    _t("customer_responded", WAITING, ACCEPTED),
    # Solved. A fault solved at the hotline is replied there and its result goes back to the desk.
    _t("resolve", OPEN, RESOLVED, kinds=frozenset({CONSULT, COMPLAIN, FAULT})),
    _t("resolve", RETURNED, RESOLVED, kinds=frozenset({CONSULT, COMPLAIN})),
    _t("resolve", ACCEPTED, RESOLVED, kinds=frozenset({FAULT})),
    # Business acceptance: the desk, hotline and online tell the customer where to go;
    # the account manager does the business and records the outcome.
    _t("refer", OPEN, RESOLVED, kinds=frozenset({ACCEPT}), team_kinds=frozenset({DESK, HOTLINE, ONLINE})),
    _t("record_acceptance", OPEN, RESOLVED, kinds=frozenset({ACCEPT}), team_kinds=frozenset({AMS})),
    _t("reopen", RESOLVED, OPEN, kinds=frozenset({CONSULT, COMPLAIN, FAULT})),
    _t("close", RESOLVED, CLOSED, kinds=frozenset({CONSULT, ACCEPT, FAULT})),
    _t("close", RESOLVED, CLOSED, kinds=frozenset({COMPLAIN}), channels=PROVINCE_CHANNELS),
    # A complaint taken at the hotline or online is submitted to the customer's province desk (第三条(三)3):
    # it lands in that desk's queue; the desk records it and its follow-up, which archives it.
    _t("submit_to_province", RESOLVED, SUBMITTED, kinds=frozenset({COMPLAIN}), channels=NATIONAL_CHANNELS),
    # 改派: a supervisor of the holding team sends the order to another team, which accepts or returns it.
    *(_t("reassign", source, AWAITING, by="supervisor") for source in (OPEN, AWAITING, ACCEPTED, RETURNED)),
    _t(
        "follow_up",
        SUBMITTED,
        CLOSED,
        kinds=frozenset({COMPLAIN}),
        channels=NATIONAL_CHANNELS,
        team_kinds=frozenset({DESK}),
    ),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))
# Actions that write a status (the others leave it where it is).
STATUS_ACTIONS = frozenset(t.action for t in TRANSITIONS if t.source != t.target)


@dataclass(frozen=True)
class Facts:
    """What the table needs to know about an order."""

    status: str
    kind: str
    channel: str
    holder_team_kind: str
    resume_status: str = ""


def _matches(t: Transition, facts: Facts, *, by: str) -> bool:
    if t.source != facts.status or facts.kind not in t.kinds or t.by != by:
        return False
    if t.channels is not None and facts.channel not in t.channels:
        return False
    if t.team_kinds is not None and facts.holder_team_kind not in t.team_kinds:
        return False
    return not (t.action == "customer_responded" and t.target != facts.resume_status)


def find(facts: Facts, action: str, *, by: str = "holder") -> Transition | None:
    for t in TRANSITIONS:
        if t.action == action and _matches(t, facts, by=by):
            return t
    return None


def allowed_actions(facts: Facts, *, by: str = "holder") -> list[str]:
    """Actions the table allows now, in table order, each once."""
    out: list[str] = []
    for t in TRANSITIONS:
        if _matches(t, facts, by=by) and t.action not in out:
            out.append(t.action)
    return out


# What the holder most likely does next, by status (and kind): shown first and open, the rest folded.
_LIKELY: dict[str, tuple[str, ...]] = {
    OPEN: ("resolve", "refer", "record_acceptance"),
    AWAITING: ("accept",),
    ACCEPTED: ("return_result", "resolve"),
    RETURNED: ("resolve",),
    WAITING: ("customer_responded",),
    RESOLVED: ("close", "submit_to_province"),
    SUBMITTED: ("follow_up",),
}


def default_dispatch(kind: str, from_team_kind: str) -> tuple[str, str]:
    """(team kind, reason code) a hand-off of this kind from this team most likely has: the form's defaults."""
    if from_team_kind == AMS and kind == COMPLAIN:
        return DESK, "am_handover"
    return HOTLINE, DEFAULT_REASON.get(kind, "needs_expert")


def ordered_actions(facts: Facts, allowed: list[str]) -> list[str]:
    """The allowed actions with the likely one first (pure). A complaint the desk records is
    usually answered and resolved at first contact; dispatching is the exception."""
    likely = [a for a in _LIKELY.get(facts.status, ()) if a in allowed]
    return likely[:1] + [a for a in allowed if a not in likely[:1]]


# The reason code a hand-off of each kind most likely has (the form's default).
DEFAULT_REASON: dict[str, str] = {
    CONSULT: "needs_expert",
    COMPLAIN: "complaint_assist",
    FAULT: "fault_unsolved",
}


def transfer_called_for(*, kind: str, from_team_kind: str, to_team_kind: str, cited_article: bool) -> bool:
    """Whether 第三条 calls for this hand-off; any other is a 首问负责制 exception to flag.

    Called for: a consultation an account manager or province desk cannot answer,
    sent to the hotline (not if a knowledge article already answered it); a
    complaint a province desk needs help with, sent to the hotline; a fault a
    province desk could not solve, sent to the hotline.
    """
    if from_team_kind == AMS and kind in (COMPLAIN, FAULT):
        # 第三条(一) note: the account manager helps with complaints and faults. The complaint
        # channel is the province's 10000+9 (第二条(二)), faults are the hotline's (第二条(二)/(三)).
        return to_team_kind == DESK if kind == COMPLAIN else to_team_kind in (DESK, HOTLINE)
    if to_team_kind != HOTLINE:
        return False
    if kind == CONSULT:
        return from_team_kind in (DESK, AMS) and not cited_article
    if kind in (COMPLAIN, FAULT):
        return from_team_kind == DESK
    return False


# The flows of 第三条, each an explicit path: (action, kind of the team doing it).
# "create" is the first contact; tests walk every path through this table and the API.
PATHS: dict[str, tuple[Kind, tuple[tuple[str, str], ...]]] = {
    "consultation_answered_at_first_contact": (
        CONSULT,
        (("create", DESK), ("reply", DESK), ("resolve", DESK), ("close", DESK)),
    ),
    "consultation_via_hotline": (
        CONSULT,
        (
            ("create", AMS),
            ("dispatch", AMS),
            ("accept", HOTLINE),
            ("return_result", HOTLINE),
            ("reply", AMS),
            ("resolve", AMS),
            ("close", AMS),
        ),
    ),
    "acceptance_referred": (ACCEPT, (("create", DESK), ("refer", DESK), ("close", DESK))),
    "acceptance_by_account_manager": (ACCEPT, (("create", AMS), ("record_acceptance", AMS), ("close", AMS))),
    "complaint_handled_by_province": (
        COMPLAIN,
        (("create", DESK), ("reply", DESK), ("resolve", DESK), ("close", DESK)),
    ),
    "complaint_province_via_hotline": (
        COMPLAIN,
        (
            ("create", DESK),
            ("dispatch", DESK),
            ("accept", HOTLINE),
            ("return_result", HOTLINE),
            ("reply", DESK),
            ("resolve", DESK),
            ("close", DESK),
        ),
    ),
    "complaint_at_hotline": (
        COMPLAIN,
        (
            ("create", HOTLINE),
            ("reply", HOTLINE),
            ("resolve", HOTLINE),
            ("submit_to_province", HOTLINE),
            ("follow_up", DESK),
        ),
    ),
    "complaint_at_online": (
        COMPLAIN,
        (
            ("create", ONLINE),
            ("reply", ONLINE),
            ("resolve", ONLINE),
            ("submit_to_province", ONLINE),
            ("follow_up", DESK),
        ),
    ),
    "fault_preprocessed_by_province": (
        FAULT,
        (("create", DESK), ("reply", DESK), ("resolve", DESK), ("close", DESK)),
    ),
    "fault_province_via_hotline": (
        FAULT,
        (
            ("create", DESK),
            ("dispatch", DESK),
            ("accept", HOTLINE),
            ("reply", HOTLINE),
            ("resolve", HOTLINE),
            ("close", DESK),
        ),
    ),
    "fault_at_hotline": (
        FAULT,
        (("create", HOTLINE), ("reply", HOTLINE), ("resolve", HOTLINE), ("close", HOTLINE)),
    ),
}


def walk(path: str) -> list[Status]:
    """The statuses a path goes through, checking every step against the table (used by the tests)."""
    kind, steps = PATHS[path]
    channel = CHANNEL_OF_TEAM_KIND[steps[0][1]]
    status: Status = OPEN
    seen = [status]
    for action, team_kind in steps[1:]:
        facts = Facts(status=status, kind=kind, channel=channel, holder_team_kind=team_kind)
        t = find(facts, action)
        if t is None:
            raise ValueError(f"{path}: {action} not allowed from {status}")
        if t.team_kinds is not None and team_kind not in t.team_kinds:
            raise ValueError(f"{path}: {team_kind} may not {action}")
        status = t.target
        seen.append(status)
    return seen
