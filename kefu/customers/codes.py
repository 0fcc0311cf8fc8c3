"""Error codes of customers: the stable ``code`` of its refusals (the wire value; docs/api.md)."""

from enum import StrEnum


class CustomerCode(StrEnum):
    ACCOUNT_NUMBER_TAKEN = "account_number_taken"
    INVALID_PHONE = "invalid_phone"
    PHONE_EXISTS = "phone_exists"
    PROVINCE_OUT_OF_SCOPE = "province_out_of_scope"
    STALE_VERSION = "stale_version"
