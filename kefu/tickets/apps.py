from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = _("工单")

    def ready(self) -> None:
        from kefu.knowledge import registry as knowledge_registry
        from kefu.sla import registry as sla_registry

        from . import audit_verbs, nav, services  # noqa: F401
        from .selectors import leaf_category_choices, owner_links, problem_samples

        # The SLA sweep auto-accepts a hop whose 2-hour accept clock ran out (第七条).
        sla_registry.on_expired(
            "tickets.hop",
            "accept",
            lambda owner_id, clock, now: services.hop_auto_accept(
                hop_id=owner_id, now=now, deadline=clock.due_at
            ),
        )
        sla_registry.register_owner_link("tickets.hop", owner_links("tickets.hop"))
        sla_registry.register_owner_link("tickets.ticket", owner_links("tickets.ticket"))
        knowledge_registry.register_problem_source(problem_samples)
        knowledge_registry.register_category_source(leaf_category_choices)
