"""Routes of kefu.realtime for the isolation meta-test (tests/test_isolation.py).

The socket route itself is not a Django URL; ``SOCKET_ROUTES`` lists it and
``test_socket_routes.py`` fails when a WebSocket route has no entry. Scoping on
the socket is the group rule (``kefu.realtime.groups.may_join``), tested in
``test_protocol.py`` and ``test_poll.py`` with users of other teams and provinces.
"""

from tests.isolation_spec import Public

ROUTES = {
    "rt/poll": Public(
        "long-poll fallback: visitors (token) and anonymous FAQ readers; every group passes may_join"
    ),
    "rt/act": Public("action fallback: visitors (token); every action authorises its own principal"),
}

SOCKET_ROUTES = {
    "ws/rt/": "the one socket: session or visitor token; groups by kefu.realtime.groups.may_join",
}
