"""Error codes: each app lists its own in ``kefu/<app>/codes.py`` (a ``StrEnum``); these are core's.

Core's codes are the generic refusals any app may give (``validation_error``, ``not_found``, ...) and
those of the API shell and the request guard. :func:`all_codes` is the union the OpenAPI document
publishes as the error body's ``code`` enum; ``kefu/core/tests/test_error_codes.py`` holds every raise
site to its app's enum and every member to a raise site.
"""

from __future__ import annotations

import importlib
import importlib.util
from enum import StrEnum


class CoreCode(StrEnum):
    BAD_REQUEST = "bad_request"
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    ILLEGAL_TRANSITION = "illegal_transition"
    UNAUTHENTICATED = "unauthenticated"
    CSRF_FAILED = "csrf_failed"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNKNOWN_QUERY_PARAMETER = "unknown_query_parameter"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    URI_TOO_LONG = "uri_too_long"
    INVALID_UTF8 = "invalid_utf8"
    NUL_CHARACTER = "nul_character"
    METHOD_NOT_ALLOWED = "method_not_allowed"


def app_enums() -> dict[str, type[StrEnum]]:
    """Every app's code enum by app label (``core`` included), from ``kefu/<app>/codes.py``."""
    from django.apps import apps

    out: dict[str, type[StrEnum]] = {"core": CoreCode}
    for config in apps.get_app_configs():
        if not config.name.startswith("kefu.") or config.label == "core":
            continue
        if importlib.util.find_spec(f"{config.name}.codes") is None:
            continue
        module = importlib.import_module(f"{config.name}.codes")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == module.__name__:
                out[config.name.removeprefix("kefu.")] = value
    return out


def all_codes() -> list[str]:
    """The union of every app's codes, sorted (the ``code`` enum of the published error body)."""
    return sorted({str(member) for enum in app_enums().values() for member in enum})
