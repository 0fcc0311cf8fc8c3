"""Domain errors: one shape for every refusal, in Chinese first and English.

Services raise these; the API turns them into
``{"code", "message", "message_en", "details"}`` with the given status, and the
web views show ``message`` to the user. Codes are stable identifiers that
clients may branch on (each app lists its own in ``kefu/<app>/codes.py``, a
``StrEnum``); messages are for people.

``details`` is ``None`` or an object, never a list. Problems with input fields
go under ``details["fields"]``, each ``{"field", "message", "message_en",
"type"}`` (plus any facts of its own, e.g. ``allowed``); other facts are named
keys (``{"current_version": 7}``). Raise with ``fields=[...]`` for the first and
``details={...}`` for the second; missing messages and type are filled in here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kefu.core.codes import CoreCode

# The ``type`` of a field problem when the raiser names none.
DEFAULT_FIELD_TYPE = "invalid"


def field_problem(problem: Mapping[str, Any], message: str, message_en: str) -> dict[str, Any]:
    """One entry of ``details.fields``: the four documented keys first, the raiser's extra facts after."""
    out: dict[str, Any] = {
        "field": str(problem.get("field", "")),
        "message": str(problem.get("message") or message),
        "message_en": str(problem.get("message_en") or message_en),
        "type": str(problem.get("type") or DEFAULT_FIELD_TYPE),
    }
    for key, value in problem.items():
        out.setdefault(key, value)
    return out


class DomainError(Exception):
    status = 400
    default_code: str = CoreCode.BAD_REQUEST

    def __init__(
        self,
        message: str,
        message_en: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        fields: Sequence[Mapping[str, Any]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message_en)
        if details is not None and not isinstance(details, Mapping):
            # The contract (docs/api.md): details is an object. A list of field problems goes in fields=.
            raise TypeError("DomainError details must be a mapping; pass field problems as fields=[...]")
        self.code = str(code or self.default_code)
        self.message = message
        self.message_en = message_en
        body: dict[str, Any] = dict(details) if details else {}
        if fields:
            body["fields"] = [field_problem(f, message, message_en) for f in fields]
        self.details: dict[str, Any] | None = body or None
        if status is not None:
            self.status = status

    @property
    def fields(self) -> list[dict[str, Any]]:
        """The field problems (``details.fields``), empty when there are none."""
        return list((self.details or {}).get("fields", []))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "details": self.details,
        }


class ValidationFailed(DomainError):
    status = 422
    default_code = CoreCode.VALIDATION_ERROR


class NotFound(DomainError):
    """Also what a caller gets for an object outside its scope: the two must look the same."""

    status = 404
    default_code = CoreCode.NOT_FOUND

    def __init__(self) -> None:
        # Deliberately the same words for every kind of object, so that the body
        # says nothing about what exists in another province.
        super().__init__("未找到，或不在您的权限范围内。", "Not found, or outside your scope.")


class Forbidden(DomainError):
    status = 403
    default_code = CoreCode.FORBIDDEN


class Conflict(DomainError):
    status = 409
    default_code = CoreCode.CONFLICT


class IllegalTransition(Conflict):
    default_code = CoreCode.ILLEGAL_TRANSITION


def not_found_body() -> dict[str, Any]:
    """The exact body every missing or out-of-scope object gets (the isolation tests compare it)."""
    return NotFound().as_dict()
