"""Live banners through ``kefu.realtime``: who hears an incident change, and what they are told.

Staff hear it on their team groups (the addressed desks, the hotline, the
online team and HQ service); the public FAQ on ``public.faq`` with the
customer script only, never the agents' guidance. Published inside the
service's transaction, so a rolled-back change pushes nothing; pages that load
later read the same state from the database.
"""

from __future__ import annotations

from typing import Any

from kefu import realtime
from kefu.org.models import Team

from .models import Bulletin, Incident

EVENT = "incidents.banner"


def _teams(incident: Incident) -> list[int]:
    teams = Team.objects.filter(kind__in=[Team.Kind.HOTLINE, Team.Kind.ONLINE, Team.Kind.HQ_SERVICE])
    desks = Team.objects.filter(kind=Team.Kind.PROVINCE_DESK)
    if not incident.all_provinces:
        desks = desks.filter(province__in=incident.provinces.all())
    return sorted(set(teams.values_list("pk", flat=True)) | set(desks.values_list("pk", flat=True)))


def staff_payload(incident: Incident, bulletin: Bulletin | None) -> dict[str, Any]:
    return {
        "number": incident.number,
        "title": incident.title,
        "impact": incident.impact,
        "status": incident.status,
        "status_label": str(incident.get_status_display()),
        "open": incident.is_open,
        "version": bulletin.version if bulletin else None,
        "script": bulletin.customer_script if bulletin else "",
        "guidance": bulletin.agent_guidance if bulletin else "",
        "url": f"/incidents/{incident.number}/",
    }


def incident_changed(incident: Incident, bulletin: Bulletin | None) -> None:
    payload = staff_payload(incident, bulletin)
    for team_id in _teams(incident):
        realtime.publish(f"team.{team_id}", EVENT, payload)
    if bulletin is not None:
        realtime.publish(
            "public.faq",
            EVENT,
            {
                "key": incident.number,
                "title": incident.title,
                "status_label": payload["status_label"],
                "open": incident.is_open,
                "script": bulletin.customer_script,
            },
        )
