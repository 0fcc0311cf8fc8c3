"""Actors: seats, permissions, data scope; a token narrows to one team."""

from __future__ import annotations

import pytest

from kefu.core.errors import Forbidden
from kefu.org.access import actor_for, system_actor
from kefu.org.models import Membership, Province, Role, Team

pytestmark = pytest.mark.django_db


def test_provincial_agent_sees_only_its_province(agent_bj):
    bj = Province.objects.get(slug="bj")
    assert not agent_bj.scope.national and agent_bj.scope.province_ids == {bj.pk}
    assert agent_bj.province_code == "110000" and agent_bj.unit_code == "branch_bj"


def test_any_national_seat_gives_a_national_scope(make_actor):
    actor = make_actor("both", "desk_js", Role.SUPERVISOR)
    Membership.objects.create(user=actor.user, team=Team.objects.get(code="hotline"), role=Role.AGENT)
    assert actor_for(actor.user).scope.national


def test_seats_in_two_provinces_see_both(make_actor):
    actor = make_actor("two", "desk_js", Role.AGENT)
    Membership.objects.create(user=actor.user, team=Team.objects.get(code="desk_zj"), role=Role.AGENT)
    scope = actor_for(actor.user).scope
    assert scope.province_ids == set(
        Province.objects.filter(slug__in=["js", "zj"]).values_list("pk", flat=True)
    )


def test_inactive_membership_and_inactive_user_count_for_nothing(make_actor):
    actor = make_actor("lapsed", "desk_bj", Role.SUPERVISOR)
    Membership.objects.filter(user=actor.user).update(is_active=False)
    lapsed = actor_for(actor.user)
    assert lapsed.seats == () and lapsed.scope.is_empty and not lapsed.can("ticket.view")
    Membership.objects.filter(user=actor.user).update(is_active=True)
    actor.user.is_active = False
    assert actor_for(actor.user).seats == ()


def test_permissions_follow_the_matrix(agent_bj, hq_reviewer, admin_actor):
    assert agent_bj.can("ticket.create") and not agent_bj.can("kb.publish")
    assert hq_reviewer.can("kb.publish") and not hq_reviewer.can("ticket.create")
    assert admin_actor.is_admin and admin_actor.can("admin.site")
    with pytest.raises(Forbidden) as exc:
        agent_bj.require("kb.publish")
    assert exc.value.status == 403 and exc.value.details == {"permission": "kb.publish"}


def test_team_helpers(lead_js):
    desk = Team.objects.get(code="desk_js")
    assert lead_js.team_ids_with("ticket.supervise") == {desk.pk}
    assert lead_js.in_team(desk.pk, "ticket.supervise")
    assert not lead_js.in_team(Team.objects.get(code="desk_bj").pk)


def test_token_narrows_to_one_team(make_actor):
    actor = make_actor("narrow", "desk_bj", Role.SUPERVISOR)
    hotline = Team.objects.get(code="hotline")
    Membership.objects.create(user=actor.user, team=hotline, role=Role.AGENT)
    narrowed = actor_for(actor.user, token_team_id=hotline.pk)
    assert [s.team_code for s in narrowed.seats] == ["hotline"]
    assert narrowed.scope.national and not narrowed.can("ticket.supervise")


def test_system_actor_has_no_seats():
    actor = system_actor()
    assert actor.seats == () and actor.scope.is_empty and actor.user.pk is None
