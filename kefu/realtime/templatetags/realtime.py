"""``{% realtime_client %}``: the client script and where its socket is, for any page that pushes."""

from __future__ import annotations

import os

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

register = template.Library()


def socket_url(request: HttpRequest) -> str:
    """Where the browser opens the socket.

    ``KEFU_WS_URL`` wins (a full ``wss://…`` URL, or a path such as ``/ws/rt/``
    when a reverse proxy sends /ws/ to daphne on the page's own origin).
    Otherwise: the page's host on ``KEFU_WS_PORT`` (``./kefu.sh run`` starts
    daphne there, by default the web port + 1).
    """
    configured = getattr(settings, "KEFU_WS_URL", "") or os.environ.get("KEFU_WS_URL", "")
    scheme = "wss" if request.is_secure() else "ws"
    if configured.startswith("/"):
        return f"{scheme}://{request.get_host()}{configured}"
    if configured:
        return configured
    port = os.environ.get("KEFU_WS_PORT", "")
    if not port:
        return f"{scheme}://{request.get_host()}/ws/rt/"
    host, _port = split_domain_port(request.get_host())
    return f"{scheme}://{host}:{port}/ws/rt/"


@register.simple_tag(takes_context=True)
def realtime_client(context: template.Context) -> SafeString:
    request = context["request"]
    config = {
        "wsUrl": socket_url(request),
        "pollUrl": reverse("realtime:poll"),
        "actUrl": reverse("realtime:act"),
    }
    return format_html(
        '{}<script src="{}"></script>', json_script(config, "kefu-rt-config"), static("realtime/rt.js")
    )
