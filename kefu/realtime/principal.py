"""Who is on the other end of a socket or a poll: one type for agents, visitors and anonymous readers."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.org.access import Actor


@dataclass(frozen=True)
class Principal:
    """``actor`` for a signed-in user; ``visitor_groups`` for a visitor token; neither for anonymous.

    ``origin`` is the page's origin as sent by the browser ("" when none was sent);
    ``address`` the client's IP, for rate limits.
    """

    actor: Actor | None = None
    token_id: int | None = None
    visitor_groups: frozenset[str] = field(default_factory=frozenset)
    address: str = ""
    origin: str = ""

    @property
    def kind(self) -> str:
        if self.actor is not None:
            return "agent"
        if self.token_id is not None:
            return "visitor"
        return "anonymous"

    @property
    def key(self) -> str:
        """A stable identity for rate limits and logs."""
        if self.actor is not None:
            return f"user:{self.actor.user.pk}"
        if self.token_id is not None:
            return f"token:{self.token_id}"
        return f"addr:{self.address}"
