"""Huey jobs: bulletin reminders, the auto-link rules and the outbox retries, every minute; big bulk runs."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.errors import DomainError
from kefu.core.jobs import periodic_job

from . import mail, services

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@periodic_job("incidents.minute", every=60)
def incidents_minute() -> dict[str, int]:
    now = timezone.now()
    return {
        "reminded": services.receipts_remind(now=now),
        "auto_linked": services.autolink_run(now=now),
        "mails_sent": mail.send_due(now=now),
    }


@db_task()
def incident_bulk_resolve(incident_id: int, user_id: int, method: str) -> dict[str, int]:
    """The bulk reply and resolution of an incident with many linked orders (``bulk.bulk_request``).

    Runs as the manager who asked (checked again here: a manager who lost the seat since is refused);
    safe to run twice, the links remember what is done.
    """
    from kefu.org.access import actor_for
    from kefu.org.models import User

    from . import bulk
    from .models import Incident

    actor = actor_for(User.objects.get(pk=user_id))
    try:
        rep = bulk.bulk_resolve(actor=actor, incident=Incident.objects.get(pk=incident_id), method=method)
    except DomainError as exc:  # done by an earlier run, or the manager lost the seat: nothing to do
        log.info("incident bulk %s by user %s not run: %s", incident_id, user_id, exc.code)
        return {"done": 0, "already": 0, "failed": 0}
    return {"done": rep.done, "already": rep.already, "failed": len(rep.failed)}
