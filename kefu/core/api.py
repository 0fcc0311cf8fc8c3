"""The API shell: one error shape for every 4xx, strict input, shared helpers.

Every app's ``api.py`` defines a ``ninja.Router``; ``config/api.py`` mounts them.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import operator
import re
import types
import typing
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler, StrictBool
from pydantic_core import CoreSchema, core_schema

from .codes import CoreCode, all_codes
from .errors import DomainError, not_found_body
from .scope import ScopeMissing

log = logging.getLogger(__name__)


class StrictSchema(Schema):
    """Input schemas refuse unknown fields instead of dropping them silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(Schema):
    code: str
    message: str
    message_en: str
    details: dict[str, Any] | None = None


def _json(api: NinjaAPI, request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    return api.create_response(request, body, status=status)


# Chinese words for pydantic's error types (its own messages are English only); the rest read 取值无效.
_FIELD_MESSAGES = {
    "missing": "必填",
    "unknown_field": "不支持的字段",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "too_long": "过多",
    "too_short": "过少",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为布尔值",
    "bool_type": "应为布尔值",
    "float_parsing": "应为数字",
    "datetime_parsing": "日期时间格式无效",
    "datetime_from_date_parsing": "日期时间格式无效",
    "date_from_datetime_parsing": "日期格式无效",
    "enum": "不在可选值中",
    "literal_error": "不在可选值中",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "json_invalid": "JSON 无效",
}


def _validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """ninja's validation errors as ``details.fields`` (docs/api.md): dotted path, 中文, English, type."""
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        kind = str(err.get("type", "")) or "invalid"
        if kind == "extra_forbidden":
            kind = "unknown_field"  # the same type the services give an unknown field
        fields.append(
            {
                "field": ".".join(loc),
                "message": _FIELD_MESSAGES.get(kind, "取值无效"),
                "message_en": str(err.get("msg", "")) or "Invalid value",
                "type": kind,
            }
        )
    return {"fields": fields}


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return _json(api, request, exc.as_dict(), exc.status)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        body = {
            "code": CoreCode.VALIDATION_ERROR,
            "message": "请求数据有误，请检查各字段。",
            "message_en": "The request data is invalid; check the fields.",
            "details": _validation_details(list(exc.errors)),
        }
        return _json(api, request, body, 422)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = {
            "code": CoreCode.UNAUTHENTICATED,
            "message": "请先登录或提供有效的 API 令牌。",
            "message_en": "Sign in or provide a valid API token.",
            "details": None,
        }
        return _json(api, request, body, 401)

    @api.exception_handler(AuthorizationError)
    def authz_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        body = {
            "code": CoreCode.FORBIDDEN,
            "message": "没有权限。",
            "message_en": "Forbidden.",
            "details": None,
        }
        return _json(api, request, body, 403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _json(api, request, not_found_body(), 404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 404:
            return _json(api, request, not_found_body(), 404)
        if exc.status_code == 403 and "csrf" in str(exc.message).lower():
            body = {
                "code": CoreCode.CSRF_FAILED,
                "message": "CSRF 校验失败，请刷新页面后重试。",
                "message_en": "CSRF check failed; reload the page and try again.",
                "details": None,
            }
            return _json(api, request, body, 403)
        body = {
            "code": CoreCode.HTTP_ERROR,
            "message": "请求无法处理。",
            "message_en": str(exc.message),
            "details": None,
        }
        return _json(api, request, body, exc.status_code)

    @api.exception_handler(ScopeMissing)
    def scope_missing(request: HttpRequest, exc: ScopeMissing) -> HttpResponse:
        # A programming error: fail closed, loudly in the log, without detail to the client.
        log.error("scope missing: %s", exc)
        body = {
            "code": CoreCode.INTERNAL_ERROR,
            "message": "服务器内部错误。",
            "message_en": "Internal server error.",
            "details": None,
        }
        return _json(api, request, body, 500)


def install_query_guard(api: NinjaAPI) -> None:
    """Refuse query parameters an operation does not declare (a typo must not silently widen a filter)."""
    # ninja (>= 1.5) clones each router's operations into "bound routers" when it
    # builds the URLs; requests run the clones, so those are the ones to wrap.
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                allowed: set[str] = set()
                for model in operation.models:
                    if getattr(model, "__ninja_param_source__", None) != "query":
                        continue
                    for name, fld in model.model_fields.items():
                        allowed.add(name)
                        if fld.alias:
                            allowed.add(fld.alias)
                        # Flattened nested schemas (Query[FilterSchema]) expose their own fields.
                        ann = fld.annotation
                        sub = getattr(ann, "model_fields", None)
                        if sub:
                            allowed.update(sub.keys())
                            allowed.update(f.alias for f in sub.values() if f.alias)
                _wrap(operation, frozenset(allowed))


# -- input bounds: once, in the schema layer, for every operation ------------------------------

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_text(value: Any) -> Any:
    # pydantic would read 0 or 1700000000 as a Unix time; a date in this API is YYYY-MM-DD.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a date must be written YYYY-MM-DD")
    return value


def _datetime_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a date-time must be written in ISO 8601")
    return value


BoundedInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
IsoDate = Annotated[dt.date, BeforeValidator(_date_text)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_datetime_text)]


class OneOf:
    """``Annotated[str, OneOf(Ticket.Status)]``: a closed set of values (a ``TextChoices`` or strings),
    checked on input (422 otherwise) and published in the OpenAPI document as an ``enum``.
    ``blank=True`` admits ``""`` too (an output field that may be empty). ``choices`` may also be a
    Django ``choices`` list of ``(value, label)`` pairs, a dict (its keys) or any iterable of strings."""

    def __init__(self, choices: Any, *, blank: bool = False) -> None:
        if isinstance(choices, type) and hasattr(choices, "values"):
            raw = list(choices.values)
        else:
            raw = [c[0] if isinstance(c, (tuple, list)) else c for c in choices]
        values = list(dict.fromkeys(str(v) for v in raw))
        self.values = ([""] if blank and "" not in values else []) + values

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(
            lambda v: str(v) if isinstance(v, str) else v, core_schema.literal_schema(self.values)
        )

    def __repr__(self) -> str:
        return f"OneOf({self.values!r})"


def Text(max_length: int | None = None, *, blank: bool = False) -> Any:  # noqa: N802 (reads as a type)
    """``Annotated[str, Text(200)]``: free text as the services take it (whitespace stripped by
    ``StrictSchema``), at most ``max_length`` characters and, unless ``blank``, with something in it.
    The document says so (``minLength``, ``maxLength``, ``pattern``), so a client and a fuzzer know."""
    if blank:
        return Field(max_length=max_length)
    return Field(min_length=1, max_length=max_length, pattern=r"\S")


def _bounded(annotation: Any, body: bool = False) -> Any:
    """The annotation with every bare ``int`` bounded to 64 bits and every date read as ISO text only;
    in a JSON body, a ``bool`` is ``true`` or ``false`` (pydantic would take 0, 1 or "yes": the document
    says boolean, and a query string's "true" is still read as text)."""
    if annotation is int:
        return BoundedInt
    if body and annotation is bool:
        return StrictBool
    if annotation is dt.datetime:
        return IsoDateTime
    if annotation is dt.date:
        return IsoDate
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if not args or origin is None or origin is typing.Literal:
        return annotation
    if origin is typing.Annotated:
        inner = _bounded(args[0], body)
        return annotation if inner is args[0] else typing.Annotated[(inner, *args[1:])]
    new = tuple(_bounded(a, body) for a in args)
    if new == args:
        return annotation
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, new)
    return origin[new] if len(new) > 1 else origin[new[0]]


def _bound_model(model: type[BaseModel], done: set[type[BaseModel]], body: bool = False) -> None:
    if model in done:
        return
    done.add(model)
    changed = False
    for fld in model.model_fields.values():
        for sub in _models_in(fld.annotation):
            _bound_model(sub, done, body)
            changed = True  # a nested model was rebuilt: this one embeds its validator
        new = _bounded(fld.annotation, body)
        if new is not fld.annotation:
            fld.annotation = new
            changed = True
    if changed:
        model.model_rebuild(force=True)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models_in(a)]


def install_input_bounds(api: NinjaAPI) -> None:
    """Bound every integer input of every operation to 64 bits (a larger id would crash the database
    query with a 500) and read dates as ISO text only: a 422 from the schema, and the OpenAPI
    document says so (``minimum``/``maximum``)."""
    done: set[type[BaseModel]] = set()
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _bound_model(model, done, getattr(model, "__ninja_param_source__", None) == "body")


# -- the documented answers: every operation lists the 4xx it can give, with the one error body ----

_ERROR_DESCRIPTIONS = {
    400: "请求无法处理(未知查询参数、无效的 JSON) / Bad request (unknown query parameter, invalid JSON)",
    401: "未登录或令牌无效 / Not signed in or the token is not valid",
    403: "没有权限，或会话请求缺少 CSRF 令牌 / Forbidden, or a session request without its CSRF token",
    404: "不存在或不在本人范围内(两者答复相同) / Missing or outside the caller's scope (the same answer)",
    409: "版本已变化或当前状态不允许该操作 / Stale version or an action the current status does not allow",
    413: "请求体过大 / Request body too large",
    415: "请求体须为 JSON / The request body must be JSON",
    422: "请求数据有误，details.fields 列出字段 / Invalid input; details.fields lists the fields",
}
_WRITES = {"post", "put", "patch", "delete"}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The 4xx answers an operation of the document can give (pure: from the method and the parameters)."""
    statuses = {400}
    if operation.get("security"):
        statuses |= {401, 403}
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if params or has_body:
        statuses.add(422)
    if any(p.get("in") == "path" for p in params) or method in _WRITES or params:
        statuses.add(404)
    if method in _WRITES:
        statuses.add(409)
    if has_body:
        statuses |= {413, 415}
    return sorted(statuses)


def install_error_docs(api: NinjaAPI) -> None:
    """Publish every operation's 4xx answers with the error body ``{code, message, message_en, details}``."""
    original = api.get_openapi_schema

    def documented(*args: Any, **kwargs: Any) -> Any:
        schema = original(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["FieldProblem"] = {
            "title": "FieldProblem",
            "type": "object",
            "properties": {
                "field": {"type": "string", "description": "字段路径(点分) / dotted path of the field"},
                "message": {"type": "string", "description": "中文说明"},
                "message_en": {"type": "string", "description": "English message"},
                "type": {"type": "string", "description": "机器可读的问题类型 / machine-readable type"},
            },
            "required": ["field", "message", "message_en", "type"],
            "additionalProperties": True,
        }
        components["ErrorOut"] = {
            "title": "ErrorOut",
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": all_codes(),
                    "description": "稳定的错误代码(各应用的 codes.py) / stable error code (each app's codes.py)",
                },
                "message": {"type": "string", "description": "中文说明"},
                "message_en": {"type": "string", "description": "English message"},
                "details": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {
                                "fields": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/FieldProblem"},
                                }
                            },
                            "additionalProperties": True,
                        },
                        {"type": "null"},
                    ],
                    "description": "null，或对象：字段问题在 fields 中，其他事实为命名键 / "
                    "null, or an object: field problems under fields, other facts as named keys",
                },
            },
            "required": ["code", "message", "message_en", "details"],
        }
        body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for methods in schema.get("paths", {}).values():
            for method, operation in methods.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation):
                    if status not in responses and str(status) not in responses:
                        responses[status] = {"description": _ERROR_DESCRIPTIONS[status], **body}
        return schema

    api.get_openapi_schema = documented  # type: ignore[method-assign]


def install_contract(api: NinjaAPI) -> None:
    """What a machine client relies on: bounded inputs and every answer documented."""
    install_input_bounds(api)
    install_error_docs(api)


def _takes_json_body(operation: Any) -> bool:
    return any(getattr(m, "__ninja_param_source__", None) == "body" for m in operation.models)


def _refusal(request: HttpRequest, allowed: frozenset[str], json_body: bool) -> dict[str, Any] | None:
    content_type = request.META.get("CONTENT_TYPE", "")
    if (
        json_body
        and request.method in ("POST", "PUT", "PATCH")
        and request.body
        and not content_type.startswith("application/json")
    ):
        # A form-encoded body would otherwise be read as if it were JSON fields.
        return {
            "status": 415,
            "code": CoreCode.UNSUPPORTED_MEDIA_TYPE,
            "message": "请求体须为 JSON (Content-Type: application/json)。",
            "message_en": "The request body must be JSON (Content-Type: application/json).",
            "details": None,
        }
    unknown = sorted(set(request.GET.keys()) - allowed)
    if unknown:
        return {
            "status": 400,
            "code": CoreCode.UNKNOWN_QUERY_PARAMETER,
            "message": "不支持的查询参数：" + "、".join(unknown),
            "message_en": "Unknown query parameter(s): " + ", ".join(unknown),
            "details": {
                "fields": [
                    {
                        "field": u,
                        "message": "不支持的查询参数",
                        "message_en": "Unknown query parameter",
                        "type": "unknown_field",
                    }
                    for u in unknown
                ]
            },
        }
    return None


def _wrap(operation: Any, allowed: frozenset[str]) -> None:
    """Run the refusals after ninja's own checks (authentication first: strangers learn nothing)."""
    original = operation._run_checks
    json_body = _takes_json_body(operation)

    def respond(request: HttpRequest, refusal: dict[str, Any]) -> HttpResponse:
        status = refusal.pop("status")
        return operation.api.create_response(request, refusal, status=status)

    if inspect.iscoroutinefunction(original):

        async def run_checks_async(request: HttpRequest) -> HttpResponse | None:
            error = await original(request)
            if error is not None:
                return error
            refusal = _refusal(request, allowed, json_body)
            return respond(request, refusal) if refusal else None

        operation._run_checks = run_checks_async
    else:

        def run_checks(request: HttpRequest) -> HttpResponse | None:
            error = original(request)
            if error is not None:
                return error
            refusal = _refusal(request, allowed, json_body)
            return respond(request, refusal) if refusal else None

        operation._run_checks = run_checks
