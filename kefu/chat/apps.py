from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "kefu.chat"
    label = "chat"
    verbose_name = _("在线客服")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import audit_verbs, protocol  # noqa: F401  (registers verbs, the group kind and the actions)
        from .panels import register as register_panels

        register_panels()
        from kefu.core.registry import register_recent_contacts  # the screen pop's last contacts (calls #11)

        register_recent_contacts("chat", recent_chats)


def recent_chats(actor: Any, customer: Any, limit: int) -> list[Any]:
    """A customer's conversations (matched contact, or a contact's phone) in the actor's chat teams."""
    from django.db.models import Q

    from kefu.core.registry import RecentContact

    from .figures import conversations_for
    from .models import Conversation

    if not (actor.can("chat.work") or actor.can("chat.stats")):
        return []
    from kefu.customers.models import ContactPhone

    phones = (
        ContactPhone.objects.unscoped("the phones of a customer the caller already holds")
        .filter(contact__customer=customer)
        .values("number")
    )
    rows = (
        conversations_for(actor)
        .filter(Q(possible_contact__customer=customer) | Q(visitor_phone__in=phones, visitor_phone__gt=""))
        .order_by("-created_at")[:limit]
    )
    label = Conversation._meta.verbose_name or ""
    return [
        RecentContact(
            kind="chat",
            label=label,
            at=c.created_at,
            title=f"{c.visitor_name} · {c.get_status_display()}",
            ref=c.pk,
        )
        for c in rows
    ]
