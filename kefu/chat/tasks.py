from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import conversations_idle_close


@db_periodic_task(crontab(minute="*"))
@lock_task("chat-idle-close")
def chat_idle_close() -> int:
    """第六条(七): every minute, thank and close conversations whose visitor asked nothing."""
    return conversations_idle_close()
