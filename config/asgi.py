"""ASGI entry: WebSockets (Channels) at /ws/, and HTTP for the long-poll fallback.

Pages are served by gunicorn over WSGI (README: Django keeps database
connections across requests there); ``./kefu.sh run`` starts daphne with this
application beside it for sockets (docs/realtime.md, "Serving").
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from kefu.realtime.routing import websocket_urlpatterns  # noqa: E402

# The socket's origin is checked by the consumer itself (own hosts, or an
# embedding site from the allowed-origins table, which then gets no session).
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
