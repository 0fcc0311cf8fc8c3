from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from . import dbcheck
from .codes import CoreCode

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy with no inline script, and the headers Django does not set itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Also on responses refused before XFrameOptionsMiddleware runs (RequestGuardMiddleware).
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if _authenticated(request, response):
            # A signed-in page or API answer holds someone's data: no shared or disk cache may keep it.
            response.headers["Cache-Control"] = "no-store, private"
        return response


def _authenticated(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the request carried (or the response sets) credentials.

    Cheap on purpose: a session cookie or a bearer token is enough, so anonymous pages
    (login, public FAQ, static files) keep their caching and no session is loaded here.
    """
    if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    if settings.SESSION_COOKIE_NAME in response.cookies:
        return True
    # Only a user already loaded by the view (never load one here: /healthz must work without a database).
    user = getattr(request, "_cached_user", None)
    return bool(user is not None and user.is_authenticated)


# gunicorn refuses a request line over 4094 bytes with its own HTML page; stay below it.
MAX_URL_CHARS = 4000


def _error(status: int, code: str, zh: str, en: str) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": zh, "message_en": en, "details": None},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class RequestGuardMiddleware:
    """Refuse what no handler should see: oversized bodies, NUL bytes and bad UTF-8 in the URL.

    Runs before sessions and views so nothing can be half-written.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, CoreCode.BAD_REQUEST, "Content-Length 无效。", "Invalid Content-Length.")
        if length > settings.KEFU_MAX_REQUEST_BYTES:
            return _error(413, CoreCode.PAYLOAD_TOO_LARGE, "请求体过大。", "Request body too large.")
        raw_query = request.META.get("QUERY_STRING", "")
        if len(request.path) + len(raw_query) > getattr(settings, "KEFU_MAX_URL_CHARS", MAX_URL_CHARS):
            # Below the web server's own request-line limit (docs/deploy.md), so the client gets our body.
            return _error(414, CoreCode.URI_TOO_LONG, "请求地址过长。", "The request URL is too long.")
        if "\x00" in request.path or "%00" in raw_query or "\x00" in raw_query:
            return _nul_error()
        content_type = request.META.get("CONTENT_TYPE", "")
        if length and (
            content_type.startswith("application/json")
            or content_type.startswith("application/x-www-form-urlencoded")
        ):
            try:
                body = request.body
            except RequestDataTooBig:
                # Above DATA_UPLOAD_MAX_MEMORY_SIZE: JSON and form bodies are read into memory.
                return _error(413, CoreCode.PAYLOAD_TOO_LARGE, "请求体过大。", "Request body too large.")
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return _error(
                    400,
                    CoreCode.INVALID_UTF8,
                    "请求体不是有效的 UTF-8 编码。",
                    "The request body is not valid UTF-8.",
                )
            lowered = body.lower()
            if b"\x00" in body or b"%00" in body or b"\\u0000" in lowered:
                return _nul_error()
        return self.get_response(request)


def _nul_error() -> JsonResponse:
    return _error(
        400, CoreCode.NUL_CHARACTER, "请求中含有非法的 NUL 字符。", "The request contains a NUL character."
    )


_API_STATUS_BODIES: dict[int, tuple[str, str, str]] = {
    400: (CoreCode.BAD_REQUEST, "请求无法处理。", "Bad request."),
    403: (CoreCode.FORBIDDEN, "没有权限。", "Forbidden."),
    405: (CoreCode.METHOD_NOT_ALLOWED, "不支持此请求方法。", "Method not allowed."),
    413: (CoreCode.PAYLOAD_TOO_LARGE, "请求体过大。", "Request body too large."),
    415: (CoreCode.UNSUPPORTED_MEDIA_TYPE, "不支持的请求体类型。", "Unsupported media type."),
}


class ApiErrorShapeMiddleware:
    """Under /api/, every error that did not come from the API's own handlers (unknown path,
    wrong method, a server error) still has the error shape ``{code, message, message_en, details}``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith("/api/")
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        if status == 404:
            from .errors import not_found_body

            body = not_found_body()
            return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
        if status >= 500:
            shaped = _error(status, CoreCode.INTERNAL_ERROR, "服务器内部错误。", "Internal server error.")
        else:
            code, zh, en = _API_STATUS_BODIES.get(
                status, (CoreCode.HTTP_ERROR, "请求无法处理。", "The request cannot be handled.")
            )
            shaped = _error(status, code, zh, en)
        if "Allow" in response:
            shaped["Allow"] = response["Allow"]
        return shaped


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the user chose English with the switch (the language cookie).

    Unlike Django's LocaleMiddleware, the browser's Accept-Language is ignored: the
    staff's machines are often set to English while the working language is Chinese.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.headers.get("Vary", "")
        if "cookie" not in patch_vary.lower():
            response.headers["Vary"] = f"{patch_vary}, Cookie" if patch_vary else "Cookie"
        return response


class ConnectionCheckMiddleware:
    """Django's health check of a kept connection at most once a second per connection
    (``kefu.core.dbcheck``)."""

    CHECK_EVERY_S = dbcheck.CHECK_EVERY_S

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        conn, started, trusted = dbcheck.trust_recent_check()
        try:
            return self.get_response(request)
        finally:
            dbcheck.note_check(conn, started, trusted)
