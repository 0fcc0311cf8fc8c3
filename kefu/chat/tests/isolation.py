"""Routes of kefu.chat for the isolation meta-test.

Chat data is reached through the shared socket's actions (``kefu.realtime``),
each authorised by team (agents) or by the token's group (visitors); those are
tested in ``test_protocol.py`` / ``test_services.py`` with agents of other teams
and provinces and with other conversations' tokens.
"""

from typing import Any

from django.utils import timezone

from tests.isolation_spec import NoObject, ObjectRoute, Public


def conversation_file(ctx: Any) -> dict[str, Any]:
    """A Shanghai desk's conversation (transferred there) with an image: the Beijing desk gets the 404."""
    from kefu.chat import files
    from kefu.chat.models import Conversation, Message
    from kefu.org.models import Team

    team = Team.objects.get(pk=ctx.owner.seats[0].team_id)
    c = Conversation.objects.create(team=team, status="waiting", visitor_name="访客", transfers=1)
    a = files.store(
        c,
        name="截图.png",
        content_type="image/png",
        content=b"\x89PNG\r\n\x1a\n" + b"0" * 32,
        sender=Message.Sender.VISITOR,
        now=timezone.now(),
    )
    return {"pk": a.pk}


ROUTES = {
    "chat/console/": NoObject("the agent console: lists the conversations of the actor's own teams"),
    "chat/console/queue/": NoObject("the console's queue fragment: the actor's own teams"),
    "chat/stats/": NoObject(
        "figures: national readers see all conversations, others their own teams' (test_figures.py)"
    ),
    "chat/files/": Public(
        "upload: visitors by token (own conversation), agents by session + CSRF (held conversation); "
        "test_files.py"
    ),
    "chat/files/<int:pk>/": ObjectRoute(make=conversation_file, role="agent"),
    "chat/visitor-files/<int:pk>/": Public(
        "a visitor's download: the token header's own conversation only (test_files.py)"
    ),
    "chat/embed.js": Public("the embeddable script for the operator's sites: static code, no data"),
    "chat/visit/": Public(
        "the visitor's chat window: no login; the conversation is reached with its token only"
    ),
}
