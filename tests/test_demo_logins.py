"""The quick start prints the demo logins: only accounts that can sign in."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from conftest import make_user
from kefu.org.models import Role

pytestmark = pytest.mark.django_db


def test_demo_logins_lists_who_can_sign_in_and_not_system_or_ended_accounts():
    make_user("agent_bj", "desk_bj", Role.AGENT)
    system = make_user("incident_bulk", "desk_sh", Role.AGENT)
    system.is_active = False  # a system account (e.g. the incidents' bulk run) never signs in
    system.save(update_fields=["is_active"])
    ended = make_user("online_old", "online", Role.AGENT)
    ended.memberships.update(is_active=False)
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "agent_bj" in text
    assert "incident_bulk" not in text and "online_old" not in text
