"""Who is acting: a user, the memberships in force, what they may do and see.

Built once per request (or per token) by ``actor_for`` and passed to services
as ``actor``. A token restricts the user to the memberships of the token's team.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.core.errors import Forbidden
from kefu.core.scope import Scope
from kefu.org.codes import OrgCode

from .models import Membership, Role, User
from .roles import roles_for


@dataclass(frozen=True)
class Seat:
    """One active membership, flattened."""

    team_id: int
    team_code: str
    team_kind: str
    team_name: str
    unit_code: str
    province_id: int | None
    province_code: str
    role: str


@dataclass(frozen=True)
class Actor:
    user: User
    seats: tuple[Seat, ...] = field(default=())

    # -- permissions -------------------------------------------------------
    def roles(self) -> frozenset[str]:
        return frozenset(s.role for s in self.seats)

    def can(self, permission: str) -> bool:
        allowed = roles_for(permission)
        return any(s.role in allowed for s in self.seats)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(
                "您没有执行此操作的权限。",
                "You do not have permission to do this.",
                code=OrgCode.PERMISSION_DENIED,
                details={"permission": permission},
            )

    def seats_with(self, permission: str) -> tuple[Seat, ...]:
        allowed = roles_for(permission)
        return tuple(s for s in self.seats if s.role in allowed)

    def team_ids_with(self, permission: str) -> frozenset[int]:
        return frozenset(s.team_id for s in self.seats_with(permission))

    def in_team(self, team_id: int, permission: str | None = None) -> bool:
        seats = self.seats_with(permission) if permission else self.seats
        return any(s.team_id == team_id for s in seats)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles()

    # -- data scope --------------------------------------------------------
    @property
    def scope(self) -> Scope:
        if not self.seats:
            return Scope.nothing()
        if any(s.province_id is None for s in self.seats):
            return Scope.everything()
        return Scope.provinces(s.province_id for s in self.seats if s.province_id is not None)

    @property
    def primary_seat(self) -> Seat | None:
        return self.seats[0] if self.seats else None

    @property
    def unit_code(self) -> str:
        seat = self.primary_seat
        return seat.unit_code if seat else ""

    @property
    def province_code(self) -> str:
        seat = self.primary_seat
        return seat.province_code if seat else ""


def _seats(user: User, team_id: int | None = None) -> tuple[Seat, ...]:
    qs = Membership.objects.filter(user=user, is_active=True).select_related("team__unit", "team__province")
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return tuple(
        Seat(
            team_id=m.team_id,
            team_code=m.team.code,
            team_kind=m.team.kind,
            team_name=m.team.name,
            unit_code=m.team.unit.code,
            province_id=m.team.province_id,
            province_code=m.team.province.code if m.team.province else "",
            role=m.role,
        )
        for m in qs.order_by("id")
    )


def actor_for(user: User, *, token_team_id: int | None = None) -> Actor:
    if not user.is_active:
        return Actor(user=user)
    return Actor(user=user, seats=_seats(user, token_team_id))


def system_actor() -> Actor:
    """The system acting on its own (the SLA sweep, scheduled publication)."""
    return Actor(user=User(username="system", display_name="系统"), seats=())
