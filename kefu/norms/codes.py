"""Error codes of norms: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class NormsCode(StrEnum):
    BAD_FILE = "bad_file"
    LEXICON_INVALID = "lexicon_invalid"
    NORMS_BLOCKED = "norms_blocked"
    NORMS_CONFIRM_REQUIRED = "norms_confirm_required"
    NOT_IN_LEXICON = "not_in_lexicon"
    STALE_VERSION = "stale_version"
