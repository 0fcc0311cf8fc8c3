"""The workflow table, pinned: a change to TRANSITIONS must change this test too."""

from __future__ import annotations

import pytest

from kefu.tickets import workflow
from kefu.tickets.workflow import Facts

# (action, source, target, kinds, channels, team kinds, by)
C, A, P, F = "consultation", "acceptance", "complaint", "fault"
PINNED = [
    ("dispatch", "open", "awaiting_acceptance", {C, P, F}, None, None, "holder"),
    ("accept", "awaiting_acceptance", "accepted", {C, A, P, F}, None, None, "holder"),
    ("auto_accept", "awaiting_acceptance", "accepted", {C, A, P, F}, None, None, "system"),
    ("return", "awaiting_acceptance", "open", {C, A, P, F}, None, None, "holder"),
    ("return_result", "accepted", "result_returned", {C, P}, None, None, "holder"),
    ("reply", "open", "open", {C, A, P, F}, None, None, "holder"),
    ("reply", "accepted", "accepted", {F}, None, None, "holder"),
    ("reply", "result_returned", "result_returned", {C, A, P, F}, None, None, "holder"),
    ("reply", "resolved", "resolved", {C, A, P, F}, None, None, "holder"),
    ("await_customer", "open", "waiting_customer", {C, P, F}, None, None, "holder"),
    ("await_customer", "accepted", "waiting_customer", {C, P, F}, None, None, "holder"),
    ("customer_responded", "waiting_customer", "open", {C, A, P, F}, None, None, "holder"),
    ("customer_responded", "waiting_customer", "accepted", {C, A, P, F}, None, None, "holder"),
    ("resolve", "open", "resolved", {C, P, F}, None, None, "holder"),
    ("resolve", "result_returned", "resolved", {C, P}, None, None, "holder"),
    ("resolve", "accepted", "resolved", {F}, None, None, "holder"),
    ("refer", "open", "resolved", {A}, None, {"province_desk", "hotline", "online"}, "holder"),
    ("record_acceptance", "open", "resolved", {A}, None, {"account_managers"}, "holder"),
    ("reopen", "resolved", "open", {C, P, F}, None, None, "holder"),
    ("close", "resolved", "closed", {C, A, F}, None, None, "holder"),
    ("close", "resolved", "closed", {P}, {"province_desk", "account_manager"}, None, "holder"),
    ("submit_to_province", "resolved", "submitted", {P}, {"hotline", "online"}, None, "holder"),
    *(
        ("reassign", src, "awaiting_acceptance", {C, A, P, F}, None, None, "supervisor")
        for src in ("open", "awaiting_acceptance", "accepted", "result_returned")
    ),
    ("follow_up", "submitted", "closed", {P}, {"hotline", "online"}, {"province_desk"}, "holder"),
]


def _row(t: workflow.Transition) -> tuple:
    return (
        t.action,
        str(t.source),
        str(t.target),
        {str(k) for k in t.kinds},
        None if t.channels is None else {str(c) for c in t.channels},
        None if t.team_kinds is None else set(t.team_kinds),
        t.by,
    )


def test_transitions_table_is_pinned():
    assert [_row(t) for t in workflow.TRANSITIONS] == PINNED


def test_closed_is_terminal_and_every_status_is_reachable():
    sources = {str(t.source) for t in workflow.TRANSITIONS}
    targets = {str(t.target) for t in workflow.TRANSITIONS}
    assert "closed" not in sources
    assert targets | {"open"} == {s.value for s in workflow.Status}


@pytest.mark.parametrize("path", sorted(workflow.PATHS))
def test_every_flow_of_article_3_is_a_path_through_the_table(path):
    statuses = workflow.walk(path)
    assert statuses[0] == "open"
    assert statuses[-1] == "closed"


def test_paths_cover_every_kind_and_channel():
    kinds = {kind for kind, _ in workflow.PATHS.values()}
    channels = {workflow.CHANNEL_OF_TEAM_KIND[steps[0][1]] for _, steps in workflow.PATHS.values()}
    assert kinds == set(workflow.Kind)
    assert channels == set(workflow.Channel)


def test_the_hotline_complaint_is_submitted_not_closed():
    facts = Facts(status="resolved", kind="complaint", channel="hotline", holder_team_kind="hotline")
    assert workflow.allowed_actions(facts) == ["reply", "reopen", "submit_to_province"]
    facts = Facts(
        status="resolved", kind="complaint", channel="province_desk", holder_team_kind="province_desk"
    )
    assert workflow.allowed_actions(facts) == ["reply", "reopen", "close"]


def test_acceptance_is_referred_by_desk_and_recorded_by_account_manager():
    desk = Facts(status="open", kind="acceptance", channel="province_desk", holder_team_kind="province_desk")
    am = Facts(
        status="open", kind="acceptance", channel="account_manager", holder_team_kind="account_managers"
    )
    assert workflow.allowed_actions(desk) == ["reply", "refer"]
    assert workflow.allowed_actions(am) == ["reply", "record_acceptance"]


def test_customer_responded_returns_to_where_it_paused():
    facts = Facts(
        status="waiting_customer",
        kind="complaint",
        channel="province_desk",
        holder_team_kind="hotline",
        resume_status="accepted",
    )
    t = workflow.find(facts, "customer_responded")
    assert t is not None and t.target == "accepted"


def test_auto_accept_is_for_the_system_only():
    facts = Facts(
        status="awaiting_acceptance", kind="complaint", channel="province_desk", holder_team_kind="hotline"
    )
    assert "auto_accept" not in workflow.allowed_actions(facts)
    assert workflow.allowed_actions(facts, by="system") == ["auto_accept"]


@pytest.mark.parametrize(
    ("kind", "src", "dst", "cited", "expected"),
    [
        ("consultation", "province_desk", "hotline", False, True),
        ("consultation", "account_managers", "hotline", False, True),
        ("consultation", "province_desk", "hotline", True, False),  # a knowledge article answered it
        ("consultation", "hotline", "online", False, False),
        ("complaint", "province_desk", "hotline", False, True),
        ("complaint", "account_managers", "hotline", False, False),
        ("complaint", "province_desk", "online", False, False),
        ("fault", "province_desk", "hotline", False, True),
        ("fault", "hotline", "province_desk", False, False),
        ("acceptance", "province_desk", "hotline", False, False),
    ],
)
def test_transfer_called_for(kind, src, dst, cited, expected):
    assert (
        workflow.transfer_called_for(kind=kind, from_team_kind=src, to_team_kind=dst, cited_article=cited)
        is expected
    )
