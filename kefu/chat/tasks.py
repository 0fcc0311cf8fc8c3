from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.jobs import periodic_job

from .services import conversations_idle_close, left_messages_sweep


@db_periodic_task(crontab(minute="*"))
@periodic_job("chat.idle_close", every=60)
def chat_idle_close() -> int:
    """第六条(七): every minute, thank and close conversations whose visitor asked nothing."""
    return conversations_idle_close()


@db_periodic_task(crontab(minute="*/5"))
@periodic_job("chat.left_messages", every=300)
def chat_left_messages() -> int:
    """Left messages that did not become orders when they arrived (a customer added since, a failure)."""
    return left_messages_sweep()
