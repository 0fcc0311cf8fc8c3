"""Error codes of knowledge: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class KnowledgeCode(StrEnum):
    ARTICLE_AMBIGUOUS = "article_ambiguous"
    ARTICLE_NOT_FOUND = "article_not_found"
    BAD_FILE = "bad_file"
    IMPORT_EMPTY = "import_empty"
    IMPORT_INVALID = "import_invalid"
    LEAD_TIME = "lead_time"
    NOT_AUTHOR = "not_author"
    NOT_PROVINCE = "not_province"
    OWN_REVISION = "own_revision"
    PERMISSION_DENIED = "permission_denied"
    REVIEW_IN_PROGRESS = "review_in_progress"
    SAME_APPROVER = "same_approver"
