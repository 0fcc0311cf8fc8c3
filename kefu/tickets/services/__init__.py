"""The only writers of work orders (a package: one module per concern, every name importable from here).

Every action: guard (the workflow table, then the actor's team), lock the
ticket row, change it, bump ``version``, write one audit event on the ticket,
and move the SLA clocks in the same transaction. ``now`` defaults to the
current time; demo data and tests pass one in the past.

Clocks (kefu.sla, contract in docs/architecture.md): a ``resolve`` clock on
the ticket from creation (charged to the first-contact team); per hop an
``accept`` clock while it waits for the receiver and a ``resolve`` clock once
accepted. Waiting for the customer pauses what the policies say.
"""

from __future__ import annotations

from ._base import (  # noqa: F401
    _FIELD_ZH,
    _LOCK_WHY,
    EDITABLE_FIELDS,
    HOP,
    IDEMPOTENCY_KEY_MAX,
    TICKET,
    _begin,
    _choice,
    _confirm_problem,
    _editable_values,
    _event,
    _illegal,
    _lock,
    _now,
    _open_hop,
    _save,
    _seat_in,
    _stale,
    _text,
    actions_for,
    facts_of,
)
from .actions import (  # noqa: F401
    ACTION_BY_NAME,
    ACTION_SERVICES,
    ACTIONS,
    Action,
    Param,
)
from .clocks import (  # noqa: F401
    _check_accept_window,
    _follow_clocks,
    _refresh_due,
    _start_resolve_clock,
)
from .create import (  # noqa: F401
    Created,
    _check_category,
    _check_topic,
    _front_seat,
    _replay,
    request_fingerprint,
    ticket_create,
    ticket_update,
)
from .dispatch import (  # noqa: F401
    _accept,
    _target_team,
    hop_auto_accept,
    ticket_accept,
    ticket_dispatch,
    ticket_follow_up,
    ticket_return,
    ticket_return_result,
    ticket_submit_to_province,
)
from .notes import (  # noqa: F401
    _participant_team,
    note_add,
)
from .replies import (  # noqa: F401
    _add_reply,
    _screen,
    ticket_await_customer,
    ticket_close,
    ticket_customer_responded,
    ticket_record_acceptance,
    ticket_refer,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
)
from .supervise import (  # noqa: F401
    REASSIGNABLE,
    can_reassign,
    ticket_reassign,
)

__all__ = [
    "TICKET",
    "HOP",
    "IDEMPOTENCY_KEY_MAX",
    "EDITABLE_FIELDS",
    "facts_of",
    "actions_for",
    "Created",
    "request_fingerprint",
    "ticket_create",
    "ticket_update",
    "ticket_dispatch",
    "ticket_accept",
    "hop_auto_accept",
    "ticket_return",
    "ticket_return_result",
    "ticket_submit_to_province",
    "ticket_follow_up",
    "ticket_reply",
    "ticket_await_customer",
    "ticket_customer_responded",
    "ticket_resolve",
    "ticket_refer",
    "ticket_record_acceptance",
    "ticket_reopen",
    "ticket_close",
    "REASSIGNABLE",
    "can_reassign",
    "ticket_reassign",
    "note_add",
    "ACTIONS",
    "ACTION_BY_NAME",
    "ACTION_SERVICES",
    "Action",
    "Param",
]

# Modules: _base (lock, workflow check, save, event), clocks, create, dispatch (between teams),
# replies (the customer and the ending), supervise (改派), notes, actions (the one action table).
