"""Routes of kefu.chat for the isolation meta-test.

Chat data is reached through the shared socket's actions (``kefu.realtime``),
each authorised by team (agents) or by the token's group (visitors); those are
tested in ``test_protocol.py`` / ``test_services.py`` with agents of other teams
and provinces and with other conversations' tokens.
"""

from tests.isolation_spec import NoObject, Public

ROUTES = {
    "chat/console/": NoObject("the agent console: lists the conversations of the actor's own teams"),
    "chat/console/queue/": NoObject("the console's queue fragment: the actor's own teams"),
    "chat/stats/": NoObject(
        "figures: national readers see all conversations, others their own teams' (test_figures.py)"
    ),
    "chat/visit/": Public(
        "the visitor's chat window: no login; the conversation is reached with its token only"
    ),
}
