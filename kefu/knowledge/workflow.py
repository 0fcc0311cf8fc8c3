"""The approval workflow of a revision (第四条), as a table.

draft ─submit→ submitted ─check→ checked ─confirm→ confirmed ─publish→ published
                                                            └schedule→ scheduled ─publish_due→ published
Any stage under review ─return→ returned (with comments); the author edits,
which makes a new draft revision. A newer publication retires the old one.

Who: submit = the operating unit's author (kb.author); check = the operating
unit (kb.check); confirm = HQ business BU (kb.confirm); publish / schedule =
HQ service department (kb.publish); returns by whoever owns the stage.
``services.revision_transition`` is the only writer of ``Revision.status``.
This module is pure: no database, no Django models.
"""

from __future__ import annotations

from dataclasses import dataclass


class Status:
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the operating unit's check
    CHECKED = "checked"  # waiting for HQ business confirmation
    CONFIRMED = "confirmed"  # waiting for HQ service review and publication
    SCHEDULED = "scheduled"  # approved, publishes itself at publish_at
    PUBLISHED = "published"
    RETURNED = "returned"
    SUPERSEDED = "superseded"  # an unsubmitted draft replaced by a newer edit
    RETIRED = "retired"  # was published, replaced by a newer publication


# A revision in one of these is "under review"; the database allows one per article.
UNDER_REVIEW = (Status.SUBMITTED, Status.CHECKED, Status.CONFIRMED, Status.SCHEDULED)
# A revision in one of these may be edited (the edit is a new revision).
EDITABLE = (Status.DRAFT, Status.RETURNED, Status.PUBLISHED, Status.RETIRED)


class Action:
    SUBMIT = "submit"
    CHECK = "check"
    CONFIRM = "confirm"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    PUBLISH_DUE = "publish_due"
    RETURN = "return"
    SUPERSEDE = "supersede"
    RETIRE = "retire"


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    permission: str | None  # None = only the system (scheduled publication, retiring)
    approval: bool  # an approval step: the revision's author may not take it


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, "kb.author", False),
    Transition(Action.CHECK, Status.SUBMITTED, Status.CHECKED, "kb.check", True),
    Transition(Action.CONFIRM, Status.CHECKED, Status.CONFIRMED, "kb.confirm", True),
    Transition(Action.PUBLISH, Status.CONFIRMED, Status.PUBLISHED, "kb.publish", True),
    Transition(Action.SCHEDULE, Status.CONFIRMED, Status.SCHEDULED, "kb.publish", True),
    Transition(Action.PUBLISH_DUE, Status.SCHEDULED, Status.PUBLISHED, None, False),
    Transition(Action.RETURN, Status.SUBMITTED, Status.RETURNED, "kb.check", False),
    Transition(Action.RETURN, Status.CHECKED, Status.RETURNED, "kb.confirm", False),
    Transition(Action.RETURN, Status.CONFIRMED, Status.RETURNED, "kb.publish", False),
    Transition(Action.RETURN, Status.SCHEDULED, Status.RETURNED, "kb.publish", False),
    Transition(Action.SUPERSEDE, Status.DRAFT, Status.SUPERSEDED, None, False),
    Transition(Action.RETIRE, Status.PUBLISHED, Status.RETIRED, None, False),
)

_BY_KEY = {(t.action, t.source): t for t in TRANSITIONS}

# Actions a person can take from the web/API (the others are the system's).
USER_ACTIONS = (Action.SUBMIT, Action.CHECK, Action.CONFIRM, Action.PUBLISH, Action.SCHEDULE, Action.RETURN)


def find(action: str, source: str) -> Transition | None:
    return _BY_KEY.get((action, source))


def actions_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source and t.permission is not None]


# Audit verbs, stable codes.
VERBS = {
    Action.SUBMIT: "kb.revision_submitted",
    Action.CHECK: "kb.revision_checked",
    Action.CONFIRM: "kb.revision_confirmed",
    Action.PUBLISH: "kb.revision_published",
    Action.SCHEDULE: "kb.revision_scheduled",
    Action.PUBLISH_DUE: "kb.revision_published",
    Action.RETURN: "kb.revision_returned",
    Action.SUPERSEDE: "kb.revision_superseded",
    Action.RETIRE: "kb.revision_retired",
}
