"""Error codes of chat: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class ChatCode(StrEnum):
    ALREADY_LINKED = "already_linked"
    ALREADY_RATED = "already_rated"
    AT_CAPACITY = "at_capacity"
    BAD_CLIENT_ID = "bad_client_id"
    BAD_PHONE = "bad_phone"
    CHAT_NOT_CONFIGURED = "chat_not_configured"
    CHAT_OFFLINE = "chat_offline"
    CONVERSATION_CLOSED = "conversation_closed"
    FILE_COUNT = "file_count"
    NOT_CLOSED = "not_closed"
    NOT_HOLDER = "not_holder"
    NOT_WAITING = "not_waiting"
    RATE_LIMITED = "rate_limited"
    TOO_LONG = "too_long"
    UNAUTHORIZED = "unauthorized"
