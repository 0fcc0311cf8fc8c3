"""Replay demo CTI events against the webhook so a person can watch screen pops.

    ./manage.py calls_demo_replay --url http://127.0.0.1:8000 --agent 8001 --calls 5 --interval 4

Each call: ``newCall`` (queue, ``user[]`` = the agent's extension) → after
``--ring`` seconds ``answer`` → ``hangup``, signed like a PBX would sign them
(source ``demo-pbx``). Open 来电弹屏 (/calls/desk/) as the mapped agent
(hotline_agent for 8001) to see each caller appear.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.calls.demo import DEMO_SOURCE
from kefu.calls.models import CallSource
from kefu.calls.services import sign
from kefu.customers.models import ContactPhone


class Command(BaseCommand):
    help = "Post demo CTI events (newCall/answer/hangup) to the webhook for watching screen pops"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--agent", default="8001", help="extension named in user[] and answeringNumber")
        parser.add_argument("--calls", type=int, default=5)
        parser.add_argument("--interval", type=float, default=4.0)
        parser.add_argument("--ring", type=float, default=3.0)
        parser.add_argument("--to", default="4009208566")

    def handle(self, *args: Any, **opts: Any) -> None:
        source = CallSource.objects.filter(code=DEMO_SOURCE).first()
        if source is None or not source.secret:
            raise CommandError("no demo-pbx source: run manage.py demo_load first")
        numbers = list(
            ContactPhone.objects.unscoped("demo replay picks known callers").values_list("number", flat=True)[
                :200
            ]
        ) or ["13800138000"]
        url = f"{opts['url'].rstrip('/')}/calls/cti/{source.code}/"
        for i in range(opts["calls"]):
            call_id = f"replay-{uuid.uuid4().hex[:12]}"
            common = {"callId": call_id, "from": random.choice(numbers), "to": opts["to"], "direction": "in"}
            self._post(
                url,
                source.secret,
                {**common, "event": "newCall", "queue": "hotline", "user": [opts["agent"]]},
            )
            time.sleep(opts["ring"])
            self._post(url, source.secret, {**common, "event": "answer", "answeringNumber": opts["agent"]})
            self._post(
                url,
                source.secret,
                {**common, "event": "hangup", "cause": "normalClearing", "answeringNumber": opts["agent"]},
            )
            self.stdout.write(f"{i + 1}/{opts['calls']} {common['from']} → {opts['agent']} ({call_id})")
            time.sleep(opts["interval"])

    def _post(self, url: str, secret: str, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be http(s)")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=raw,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Kefu-Timestamp": stamp,
                "X-Kefu-Signature": "sha256=" + sign(secret, stamp, raw),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own webhook URL
                response.read()
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{exc.code}: {exc.read().decode(errors='replace')[:300]}") from None
