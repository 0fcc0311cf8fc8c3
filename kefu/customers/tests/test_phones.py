"""Phone normalisation: pure, no database."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.core.errors import ValidationFailed
from kefu.customers.phones import classify, format_phone, normalize_phone, try_normalize_phone

SAME_MOBILE = [
    "+86 138-0013-8000",
    "１３８００１３８０００",
    "13800138000",
    "0086 13800138000",
    "8613800138000",
    "+86(138)00138000",
    "138.0013.8000",
    " 138 0013 8000 ",
    "＋８６ １３８－００１３－８０００",
    "138—0013—8000",
]
SAME_LANDLINE = [
    "(010) 6552-8899",
    "010-65528899",
    "01065528899",
    "+86 10 6552 8899",
    "0086-10-65528899",
    "+86 (0)10 65528899",
    "（０１０）６５５２８８９９",
]


@pytest.mark.parametrize("raw", SAME_MOBILE)
def test_mobile_forms_are_one_number(raw):
    assert normalize_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", SAME_LANDLINE)
def test_landline_forms_keep_the_area_code(raw):
    assert normalize_phone(raw) == "01065528899"


@pytest.mark.parametrize(
    ("raw", "canonical", "kind"),
    [
        ("0571-88888888", "057188888888", "landline"),  # four-digit area code, 8-digit local number
        ("0755 8888 9999", "075588889999", "landline"),  # four-digit area code, 8-digit local number
        ("021-6888 1234", "02168881234", "landline"),
        ("+86 755 88889999", "075588889999", "landline"),
        ("400-920-8566", "4009208566", "service"),
        ("800 810 8888", "8008108888", "service"),
        ("19912345678", "19912345678", "mobile"),
    ],
)
def test_other_valid_numbers(raw, canonical, kind):
    assert normalize_phone(raw) == canonical
    assert classify(canonical) == kind


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "138-0013-800a",
        "65528899",  # landline without area code
        "123",
        "12800138000",  # 12x is not a mobile prefix
        "138001380001",
        "010-6552889",
        "010-0552889",
        "+852 9123 4567",
        "+1 415 555 0100",
        "14000000000",  # shaped like a mobile, but 140 is not an assigned prefix (phonenumbers)
        "0571-8888888",  # Hangzhou numbers have 8 digits
        "0399-12345678",  # no such area code
        "010-65528899 转 123",
        "13800138000#",
        "1" * 41,
        "０" * 12,
        "++8613800138000",
        "1380013８000x",
        "138\x000138000",
        "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits: digits, but not ours
    ],
)
def test_garbage_is_refused_in_both_languages(raw):
    with pytest.raises(ValidationFailed) as info:
        normalize_phone(raw)
    err = info.value
    assert err.status == 422 and err.code == "invalid_phone"
    assert err.message.startswith("电话号码无效") and err.message_en.startswith("Invalid phone number")
    assert try_normalize_phone(raw) is None


def test_landline_without_area_code_says_so():
    with pytest.raises(ValidationFailed) as info:
        normalize_phone("6552 8899")
    assert "区号" in info.value.message and "area code" in info.value.message_en


@pytest.mark.parametrize(
    ("canonical", "shown"),
    [
        ("13800138000", "138 0013 8000"),
        ("01065528899", "010-65528899"),
        ("057188888888", "0571-88888888"),
        ("4009208566", "400-920-8566"),
    ],
)
def test_format_for_people(canonical, shown):
    assert format_phone(canonical) == shown
    assert normalize_phone(shown) == canonical


# -- properties ---------------------------------------------------------------


def _assigned(number: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(number, "CN"))


# Shapes as before, kept to the ranges phonenumbers knows are assigned (the validity rule of phones.py).
mobiles = st.builds(
    lambda p, rest: f"1{p}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1)
).filter(_assigned)
short_area = st.sampled_from(["010"] + [f"02{d}" for d in range(10)])
long_area = st.sampled_from(["0571", "0755", "0512", "0311", "0431", "0471", "0591", "0731", "0871", "0931"])
landlines = st.one_of(
    st.builds(lambda a, f, r: f"{a}{f}{r:07d}", short_area, st.integers(2, 9), st.integers(0, 10**7 - 1)),
    st.builds(lambda a, f, r: f"{a}{f}{r:07d}", long_area, st.integers(2, 9), st.integers(0, 10**7 - 1)),
).filter(_assigned)
numbers = st.one_of(mobiles, landlines)
separators = st.sampled_from(["", " ", "-", "  ", ".", "－", "　", "—"])


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@st.composite
def written_forms(draw, number_strategy=numbers):
    """A canonical number and one way a person or a switch might write it."""
    canonical = draw(number_strategy)
    digits = canonical
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "0086 ", "0086-"]))
    if prefix and digits.startswith("0"):
        digits = digits[1:] if draw(st.booleans()) else digits  # +86 10 ... and +86 010 ... both occur
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    parts, last = [], 0
    for cut in cuts:
        parts.append(digits[last:cut])
        last = cut
    parts.append(digits[last:])
    sep = draw(separators)
    text = prefix + sep.join(parts)
    if draw(st.booleans()):
        text = _fullwidth(text)
    return canonical, f"{draw(st.sampled_from(['', ' ']))}{text}{draw(st.sampled_from(['', ' ']))}"


@given(numbers)
def test_canonical_numbers_are_fixed_points(canonical):
    assert normalize_phone(canonical) == canonical


@given(written_forms())
def test_every_written_form_gives_the_canonical_number(pair):
    canonical, written = pair
    assert normalize_phone(written) == canonical


@given(written_forms())
def test_idempotent(pair):
    _canonical, written = pair
    once = normalize_phone(written)
    assert normalize_phone(once) == once
    assert normalize_phone(format_phone(once)) == once


@given(st.text(max_size=30))
def test_any_text_is_a_number_or_a_422(text):
    result = try_normalize_phone(text)
    if result is not None:
        assert result.isdigit() and normalize_phone(result) == result
