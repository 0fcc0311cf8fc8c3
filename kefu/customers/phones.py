"""Phone numbers: one canonical form for every way people write a mainland number.

Pure functions, no database. The canonical form is digits only:

* mobile: the 11 digits, ``13800138000``;
* landline: the area code with its leading 0, then the local number,
  ``01065528899`` (010 and 02x are three-digit area codes with 8-digit local
  numbers; every other area code has four digits and 7- or 8-digit locals);
* 400/800 service numbers: the 10 digits, ``4009208566``.

``+86``/``0086``/``86`` prefixes, full-width digits, spaces, dashes, dots and
brackets are accepted and dropped. Landlines written in the international
form lose their trunk 0 (``+86 10 6552 8899``); it is put back. A number
without an area code, an extension, a foreign number or anything else is
refused: a wrong canonical form would silently miss or mis-match a caller.

Validity beyond the shape comes from ``phonenumbers`` (Google's libphonenumber
metadata, kept current by its maintainers): a mobile needs an assigned prefix
(140… is not one), a landline a real area code and local length (0571 has 8-digit
numbers, so 0571-8888888 is refused).
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from kefu.core.errors import ValidationFailed
from kefu.customers.codes import CustomerCode

MOBILE = "mobile"
LANDLINE = "landline"
SERVICE = "service"

# Characters people put between digits. NFKC has already turned full-width
# forms (（）－＋　) into these; the dashes NFKC leaves alone are listed.
_SEPARATORS = re.compile(r"[\s\-\.\(\)/\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc]+")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_SERVICE_RE = re.compile(r"[48]00\d{7}")
_LOCAL = r"[2-9]\d{6,7}"
_LANDLINE_SHORT_AREA_RE = re.compile(r"0(?:10|2\d)[2-9]\d{7}")  # 010, 020-029: 8-digit local
_LANDLINE_LONG_AREA_RE = re.compile(r"0[3-9]\d{2}" + _LOCAL)
MAX_INPUT = 40


def _invalid(raw: str, reason_zh: str, reason_en: str) -> ValidationFailed:
    return ValidationFailed(
        f"电话号码无效：{reason_zh}",
        f"Invalid phone number: {reason_en}",
        code=CustomerCode.INVALID_PHONE,
        fields=[{"field": "phone", "value": raw[:MAX_INPUT]}],
    )


def _digits(raw: str) -> tuple[bool, str]:
    """(had an international prefix marker '+', the digits) or raise for stray characters."""
    text = unicodedata.normalize("NFKC", raw).strip()
    plus = text.startswith("+")
    if plus:
        text = text[1:]
    text = _SEPARATORS.sub("", text)
    if not text.isascii() or not text.isdigit():
        raise _invalid(
            raw,
            "只能包含数字、空格、“-”、括号和开头的“+”",
            "only digits, spaces, dashes, brackets and a leading '+'",
        )
    return plus, text


def _strip_country_code(plus: bool, digits: str) -> str:
    if digits.startswith("0086"):
        return _restore_trunk_zero(digits[4:])
    if plus:
        if not digits.startswith("86"):
            raise _invalid(
                digits, "仅支持中国大陆号码(+86)", "only mainland China numbers (+86) are supported"
            )
        return _restore_trunk_zero(digits[2:])
    # A bare 86 in front of an 11-digit mobile (8613800138000) is the country code too.
    if digits.startswith("86") and len(digits) == 13 and _MOBILE_RE.fullmatch(digits[2:]):
        return digits[2:]
    return digits


def _restore_trunk_zero(national: str) -> str:
    if national.startswith("0") or _MOBILE_RE.fullmatch(national) or _SERVICE_RE.fullmatch(national):
        return national
    return "0" + national


def classify(canonical: str) -> str:
    """Kind of an already canonical number: ``mobile``, ``landline`` or ``service``."""
    if _MOBILE_RE.fullmatch(canonical):
        return MOBILE
    if _SERVICE_RE.fullmatch(canonical):
        return SERVICE
    if _LANDLINE_SHORT_AREA_RE.fullmatch(canonical) or _LANDLINE_LONG_AREA_RE.fullmatch(canonical):
        return LANDLINE
    raise _invalid(
        canonical, "不是有效的手机、固定电话或 400/800 号码", "not a valid mobile, landline or 400/800 number"
    )


def normalize_phone(raw: str) -> str:
    """The canonical form of ``raw``; raises ``ValidationFailed`` (422, ``invalid_phone``) if it is not a number."""
    if not isinstance(raw, str) or not raw.strip():
        raise _invalid(str(raw or ""), "号码为空", "the number is empty")
    if len(raw) > MAX_INPUT:
        raise _invalid(raw, "号码过长", "the number is too long")
    plus, digits = _digits(raw)
    digits = _strip_country_code(plus, digits)
    if not digits.startswith("0") and len(digits) in (7, 8) and re.fullmatch(_LOCAL, digits):
        raise _invalid(
            raw, "固定电话须带区号，如 010-65528899", "a landline needs its area code, e.g. 010-65528899"
        )
    classify(digits)  # raises for anything that is not shaped like a number
    if not phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN")):
        raise _invalid(raw, "不是在用的号段或区号", "not an assigned number range or area code")
    return digits


def try_normalize_phone(raw: str) -> str | None:
    """Like ``normalize_phone`` but None instead of an error (for search boxes)."""
    try:
        return normalize_phone(raw)
    except ValidationFailed:
        return None


def format_phone(canonical: str) -> str:
    """How a canonical number is shown to people: 138 0013 8000, 010-65528899, 400-920-8566."""
    kind = classify(canonical)
    if kind == MOBILE:
        return f"{canonical[:3]} {canonical[3:7]} {canonical[7:]}"
    if kind == SERVICE:
        return f"{canonical[:3]}-{canonical[3:6]}-{canonical[6:]}"
    area = 3 if canonical[1] in "12" else 4
    return f"{canonical[:area]}-{canonical[area:]}"


def region_of(raw: str) -> str:
    """Where a Chinese number is registered (a mobile prefix's or an area code's province and city, in
    Chinese, e.g. "辽宁省沈阳市"), from phonenumbers' own data; "" when it tells none."""
    from phonenumbers import geocoder

    if not raw:
        return ""
    try:
        return str(geocoder.description_for_number(phonenumbers.parse(raw, "CN"), "zh"))
    except phonenumbers.NumberParseException:
        return ""
