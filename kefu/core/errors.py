"""Domain errors: one shape for every refusal, in Chinese first and English.

Services raise these; the API turns them into
``{"code", "message", "message_en", "details"}`` with the given status, and the
web views show ``message`` to the user. Codes are stable identifiers that
clients may branch on; messages are for people.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    default_code = "bad_request"

    def __init__(
        self,
        message: str,
        message_en: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code or self.default_code
        self.message = message
        self.message_en = message_en
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "details": self.details,
        }


class ValidationFailed(DomainError):
    status = 422
    default_code = "validation_error"


class NotFound(DomainError):
    """Also what a caller gets for an object outside its scope: the two must look the same."""

    status = 404
    default_code = "not_found"

    def __init__(self) -> None:
        # Deliberately the same words for every kind of object, so that the body
        # says nothing about what exists in another province.
        super().__init__("未找到，或不在您的权限范围内。", "Not found, or outside your scope.")


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"


class Conflict(DomainError):
    status = 409
    default_code = "conflict"


class IllegalTransition(Conflict):
    default_code = "illegal_transition"


def not_found_body() -> dict[str, Any]:
    """The exact body every missing or out-of-scope object gets (the isolation tests compare it)."""
    return NotFound().as_dict()
