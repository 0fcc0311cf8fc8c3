"""A separate process for the crash test: set up due clocks, run the periodic sweep task, or count outcomes.

python sweep_child.py setup N     N accept clocks, all long past due
python sweep_child.py sweep SLOW  run the Huey task as the worker would; each expiry sleeps SLOW s
                                  inside its transaction and prints "done <id>" once committed
python sweep_child.py count       JSON: expiry events, distinct clocks, the lease's holder
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from kefu.core.models import AuditEvent, JobLease  # noqa: E402
from kefu.org.models import Province, Team  # noqa: E402
from kefu.sla import registry  # noqa: E402
from kefu.sla import services as sla  # noqa: E402
from kefu.sla.models import Clock  # noqa: E402
from kefu.sla.sweep import JOB_NAME  # noqa: E402

OWNER = "crashtest.hop"


def setup(n: int) -> None:
    team, bj = Team.objects.get(code="hotline"), Province.objects.get(slug="bj")
    started = timezone.now() - timedelta(days=10)
    for i in range(1, n + 1):
        sla.clock_start(
            owner_type=OWNER,
            owner_id=i,
            kind="accept",
            ticket_kind="complaint",
            team=team,
            province=bj,
            now=started,
        )


def sweep(slow: float) -> None:
    def handler(owner_id: int, clock: Clock, now: object) -> None:
        sla.clock_stop(owner_type=OWNER, owner_id=owner_id, kind="accept", now=now)
        transaction.on_commit(lambda: print(f"done {owner_id}", flush=True))
        time.sleep(slow)

    registry.on_expired(OWNER, "accept", handler)
    from kefu.sla.tasks import sla_sweep

    print(json.dumps(sla_sweep.call_local()), flush=True)


def count() -> None:
    ids = list(
        AuditEvent.objects.filter(verb="sla.clock.expired", target_type="sla.clock").values_list(
            "target_id", flat=True
        )
    )
    stopped = (
        Clock.objects.unscoped("crash test").filter(owner_type=OWNER, status=Clock.Status.RUNNING).count()
    )
    holder = JobLease.objects.filter(name=JOB_NAME).values_list("holder", flat=True).first()
    print(json.dumps({"expired": len(ids), "distinct": len(set(ids)), "running": stopped, "holder": holder}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "setup":
        setup(int(sys.argv[2]))
    elif mode == "sweep":
        sweep(float(sys.argv[2]))
    else:
        count()
