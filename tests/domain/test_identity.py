"""Tests for domain.identity: the personnummer/meta vectors, edge cases and properties.

The vectors (tests/domain/data/personnummer-meta-list.json) are the personnummer/meta project's
public list, copied so the suite does not depend on files outside the repository.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.identity import (
    ChildIdentifier,
    InvalidIdentity,
    format_identifier,
    is_male,
    ivo_pseudo_id,
    luhn_check_digit,
    new_temporary_id,
    parse_child_identifier,
    parse_temporary_id,
    pseudonym,
    sex_digit,
)
from tests.factories import stockholm_today

# Fixed reference date: every vector's birth date lies before it, and the "+" vectors (1879,
# 1909) are 100+ in its year, so the separated short forms resolve to the intended century.
TODAY = date(2026, 1, 15)
VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "personnummer-meta-list.json").read_text(encoding="utf-8")
)
FORMATS = ("long_format", "short_format", "separated_format", "separated_long")


def _luhn(nine: str) -> int:
    """Independent Luhn implementation, so the tests do not trust the code under test."""
    digits = [int(c) for c in nine]
    total = sum(sum(divmod(d * (2 - i % 2), 10)) for i, d in enumerate(digits))
    return -total % 10


def _number(born: date, nnn: int, samordning: bool = False) -> str:
    """A valid 12-digit number for ``born`` (day + 60 for a samordningsnummer)."""
    day = born.day + (60 if samordning else 0)
    nine = f"{born:%y%m}{day:02d}{nnn:03d}"
    return f"{born.year // 100}{nine}{_luhn(nine)}"


# --------------------------------------------------------------------------------------------
# personnummer/meta vectors


def _case_id(item: dict[str, Any]) -> str:
    return f"{item['long_format']}-{item['type']}-{'valid' if item['valid'] else 'invalid'}"


@pytest.mark.parametrize("item", VECTORS, ids=_case_id)
@pytest.mark.parametrize("form", FORMATS)
def test_vector_validity(item: dict[str, Any], form: str) -> None:
    raw = item[form]
    if not item["valid"]:
        with pytest.raises(InvalidIdentity):
            parse_child_identifier(raw, today=TODAY)
        return
    ident = parse_child_identifier(raw, today=TODAY)
    expected_kind = "samordningsnummer" if item["type"] == "con" else "personnummer"
    assert ident.kind == expected_kind
    assert is_male(ident) is item["isMale"]
    assert (sex_digit(ident) % 2 == 0) is item["isFemale"]
    if form == "short_format" and "+" in item["separated_format"]:
        # Ten digits without a separator read as "-": a person aged 100+ written without the
        # "+" lands a century later. This is the one form that cannot carry the century.
        assert int(ident.canonical[:4]) == int(item["long_format"][:4]) + 100
    else:
        assert ident.canonical == item["long_format"]


def test_vectors_cover_every_case() -> None:
    """Guard: the copied list still has valid/invalid, ssn/con and '+' cases."""
    assert {(v["valid"], v["type"]) for v in VECTORS} == {
        (True, "ssn"),
        (False, "ssn"),
        (True, "con"),
        (False, "con"),
    }
    assert any("+" in v["separated_format"] and v["valid"] for v in VECTORS)


@pytest.mark.parametrize("item", [v for v in VECTORS if v["valid"]], ids=_case_id)
def test_vector_birth_date_and_formatting(item: dict[str, Any]) -> None:
    ident = parse_child_identifier(item["long_format"], today=TODAY)
    long = item["long_format"]
    day = int(long[6:8])
    assert ident.birth_date == date(int(long[:4]), int(long[4:6]), day - 60 if day > 60 else day)
    assert format_identifier(ident, long=False, today=TODAY) == item["separated_format"]
    assert format_identifier(ident, long=True) == f"{long[:8]}-{long[8:]}"


# --------------------------------------------------------------------------------------------
# Explicit rules and messages


def test_luhn_matches_independent_implementation() -> None:
    assert luhn_check_digit("821105995") == 4
    assert luhn_check_digit("811218987") == 6
    with pytest.raises(ValueError):
        luhn_check_digit("12345678")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("198211059955", "check digit (Luhn) does not match"),
        ("201509160006", "födelsenummer 000 does not exist"),
        ("1982-1105-9954", "expected 10 or 12 digits"),
        ("19821105 9954", "expected 10 or 12 digits"),
        ("", "expected 10 or 12 digits"),
        ("19821105995", "expected 10 or 12 digits"),
    ],
)
def test_rejections_name_the_problem(raw: str, message: str) -> None:
    with pytest.raises(InvalidIdentity, match=re.escape(message)):
        parse_child_identifier(raw, today=TODAY)


def test_month_13_is_named() -> None:
    raw = _number(date(2010, 1, 5), 123).replace("201001", "201013", 1)
    raw = raw[:11] + str(_luhn(raw[2:11]))
    with pytest.raises(InvalidIdentity, match="month 13 does not exist"):
        parse_child_identifier(raw)


def test_leap_day() -> None:
    assert parse_child_identifier(_number(date(2024, 2, 29), 42)).birth_date == date(2024, 2, 29)
    nine = "230229042"
    with pytest.raises(InvalidIdentity, match="day 29 does not exist in 2023-02"):
        parse_child_identifier(f"20{nine}{_luhn(nine)}")
    nine = "000229042"  # 2000 is a leap year (divisible by 400), 1900 is not
    assert parse_child_identifier(f"20{nine}{_luhn(nine)}").birth_date == date(2000, 2, 29)
    with pytest.raises(InvalidIdentity, match="1900-02"):
        parse_child_identifier(f"19{nine}{_luhn(nine)}")


@pytest.mark.parametrize("day_field", [0, 32, 60, 92, 99])
def test_day_out_of_range(day_field: int) -> None:
    nine = f"1003{day_field:02d}123"
    with pytest.raises(InvalidIdentity, match="does not exist"):
        parse_child_identifier(f"20{nine}{_luhn(nine)}")


def test_samordningsnummer_day_must_fit_month() -> None:
    nine = "100491123"  # April has 30 days; 91 - 60 = 31
    with pytest.raises(InvalidIdentity, match="samordningsnummer day 91"):
        parse_child_identifier(f"20{nine}{_luhn(nine)}")
    ident = parse_child_identifier(_number(date(2010, 3, 31), 123, samordning=True))
    assert ident.kind == "samordningsnummer"
    assert ident.birth_date == date(2010, 3, 31)
    assert ident.canonical[6:8] == "91"


def test_century_must_be_18_to_20() -> None:
    nine = "100305123"
    with pytest.raises(InvalidIdentity, match="century 21"):
        parse_child_identifier(f"21{nine}{_luhn(nine)}")


def test_twelve_digits_with_plus_keep_their_century() -> None:
    raw = _number(date(2015, 3, 5), 123)
    ident = parse_child_identifier(f"{raw[:8]}+{raw[8:]}", today=TODAY)
    assert ident.canonical == raw


def test_century_is_year_based_and_uses_reference_date() -> None:
    raw = _number(date(1926, 12, 31), 321)
    short = raw[2:]
    # In 2026 the person turns 100: "+" applies from 1 January, before the birthday.
    ident = parse_child_identifier(f"{short[:6]}+{short[6:]}", today=date(2026, 1, 1))
    assert ident.canonical == raw
    # "-" would mean 2026-12-31, which has not happened yet on 1 January.
    with pytest.raises(InvalidIdentity, match="after the reference date"):
        parse_child_identifier(f"{short[:6]}-{short[6:]}", today=date(2026, 1, 1))
    # In 2025 the same person is 99: "-" resolves to 1926.
    assert parse_child_identifier(short, today=date(2025, 12, 31)).canonical == raw


def test_default_reference_date_is_today() -> None:
    born = stockholm_today() - timedelta(days=400)
    raw = _number(born, 77)
    assert parse_child_identifier(raw[2:]).canonical == raw


def test_sex_digit_and_temporary_ids() -> None:
    assert sex_digit(parse_child_identifier(_number(date(2012, 1, 1), 124))) == 4
    assert not is_male(parse_child_identifier(_number(date(2012, 1, 1), 124)))
    assert is_male(parse_child_identifier(_number(date(2012, 1, 1), 125)))
    with pytest.raises(InvalidIdentity):
        sex_digit(parse_temporary_id("TMP-1280-20260302-ABCDEF"))


# --------------------------------------------------------------------------------------------
# Temporary ids


def test_new_temporary_id_is_a_pure_function_of_its_inputs() -> None:
    assert new_temporary_id("1280", date(2026, 3, 2), bytes(4)) == "TMP-1280-20260302-000000"
    assert new_temporary_id("0127", date(2026, 3, 2), b"\xff" * 4) == "TMP-0127-20260302-ZZZZZZ"
    a = new_temporary_id("1280", date(2026, 3, 2), b"\x12\x34\x56\x78")
    assert a == new_temporary_id("1280", date(2026, 3, 2), b"\x12\x34\x56\x78\x99")
    assert a != new_temporary_id("1280", date(2026, 3, 2), b"\x12\x34\x56\x7c")


def test_new_temporary_id_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 4 bytes"):
        new_temporary_id("1280", date(2026, 3, 2), b"abc")
    with pytest.raises(InvalidIdentity, match="kommunkod"):
        new_temporary_id("128", date(2026, 3, 2), bytes(4))


@given(
    entropy=st.binary(min_size=4, max_size=16),
    kommun=st.from_regex(r"[0-9]{4}", fullmatch=True),
    issued=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_temporary_ids_round_trip(entropy: bytes, kommun: str, issued: date) -> None:
    tmp = new_temporary_id(kommun, issued, entropy)
    assert re.fullmatch(r"TMP-\d{4}-\d{8}-[0-9A-HJKMNP-TV-Z]{6}", tmp)
    parsed = parse_child_identifier(tmp.lower())
    assert parsed == ChildIdentifier("tillfalligt_id", tmp, None)
    assert parse_child_identifier(f"  {tmp}  ") == parsed


@pytest.mark.parametrize(
    "raw",
    [
        "TMP-1280-20260302-ABCDEI",  # I is not in Crockford base32
        "TMP-1280-20260302-ABCDE",
        "TMP-1280-20260302-ABCDEFG",
        "TMP-128-20260302-ABCDEF",
        "TMP-1280-2026030-ABCDEF",
        "TMP-1280-20260230-ABCDEF",  # 30 February
        "TMP-1280-ABCDEF",
        "TMP-",
        "TMP-1280-20260302-ABCDEF-X",
    ],
)
def test_bad_temporary_ids_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="temporary id"):
        parse_child_identifier(raw)


# --------------------------------------------------------------------------------------------
# Properties of valid numbers

valid_numbers = st.tuples(
    st.dates(min_value=date(1880, 1, 1), max_value=TODAY),
    st.integers(min_value=1, max_value=999),
    st.booleans(),
)


@given(valid_numbers)
def test_every_valid_number_round_trips_through_all_formats(
    case: tuple[date, int, bool],
) -> None:
    born, nnn, samordning = case
    canonical = _number(born, nnn, samordning)
    kind = "samordningsnummer" if samordning else "personnummer"
    expected = ChildIdentifier(kind, canonical, born)
    sep = "+" if TODAY.year - born.year >= 100 else "-"
    forms = [
        canonical,
        f"{canonical[:8]}-{canonical[8:]}",
        f"{canonical[:8]}+{canonical[8:]}",
        f"{canonical[2:8]}{sep}{canonical[8:]}",
        f" {canonical} ",
    ]
    if sep == "-":
        forms.append(canonical[2:])
    for form in forms:
        assert parse_child_identifier(form, today=TODAY) == expected, form
    for long in (True, False):
        written = format_identifier(expected, long=long, today=TODAY)
        assert parse_child_identifier(written, today=TODAY) == expected


@given(valid_numbers, st.integers(min_value=2, max_value=11), st.integers(0, 9))
def test_a_single_changed_digit_is_rejected(
    case: tuple[date, int, bool], position: int, digit: int
) -> None:
    canonical = _number(*case)
    assume(canonical[position] != str(digit))
    changed = canonical[:position] + str(digit) + canonical[position + 1 :]
    with pytest.raises(InvalidIdentity):
        parse_child_identifier(changed, today=TODAY)


# --------------------------------------------------------------------------------------------
# Pseudonyms

keys = st.binary(min_size=16, max_size=64)
kommuner = st.from_regex(r"[0-9]{4}", fullmatch=True)


def test_pseudonym_output_format_is_pinned() -> None:
    """Workflow ids already in production use this format; it must not change silently."""
    mac = hmac.new(b"k" * 32, b"1280:198211059954", hashlib.sha256).digest()
    expected = base64.b32encode(mac[:15]).decode().lower()
    assert pseudonym(b"k" * 32, "1280", "198211059954") == expected
    assert len(expected) == 24


@given(keys, keys, kommuner, kommuner, valid_numbers)
def test_pseudonym_properties(
    key: bytes, other_key: bytes, kommun: str, other_kommun: str, case: tuple[date, int, bool]
) -> None:
    canonical = _number(*case)
    p = pseudonym(key, kommun, canonical)
    assert p == pseudonym(key, kommun, canonical)
    assert re.fullmatch(r"[a-z2-7]{24}", p)
    assert canonical not in p
    assert canonical[2:] not in p
    if other_kommun != kommun:
        assert pseudonym(key, other_kommun, canonical) != p
    if other_key != key:
        assert pseudonym(other_key, kommun, canonical) != p


# --------------------------------------------------------------------------------------------
# IVO pseudo-identifier


@given(keys, valid_numbers, st.sampled_from(["flicka", "pojke", "annat", "okant"]))
def test_ivo_pseudo_id_format_parity_and_stability(
    key: bytes, case: tuple[date, int, bool], kon: str
) -> None:
    born = case[0]
    canonical = _number(*case)
    ivo = ivo_pseudo_id(key, canonical, born, kon)
    assert re.fullmatch(r"\d{8}-T\d{3}", ivo)
    assert ivo.startswith(f"{born:%Y%m%d}-T")
    y = int(ivo[11])  # the third character after the dash
    if kon == "flicka":
        assert y % 2 == 0
    elif kon == "pojke":
        assert y % 2 == 1
    # Stable across calls (quarters), and the digits depend on the identifier only.
    assert ivo_pseudo_id(key, canonical, born, kon) == ivo
    other = ivo_pseudo_id(key, canonical, date(2001, 1, 1), kon)
    assert other[-3:] == ivo[-3:]


def test_ivo_pseudo_id_digits_are_keyed_and_not_the_fodelsenummer() -> None:
    ids = [_number(date(2015, 6, 1), n) for n in range(1, 201)]
    born = date(2015, 6, 1)
    girls = [ivo_pseudo_id(b"a" * 32, i, born, "flicka")[-3:] for i in ids]
    other_key = [ivo_pseudo_id(b"b" * 32, i, born, "flicka")[-3:] for i in ids]
    # Not a function of the födelsenummer: far fewer matches than a copy would give.
    assert sum(g == i[8:11] for g, i in zip(girls, ids, strict=True)) < 5
    assert girls != other_key
    assert len(set(girls)) > 100


def test_ivo_pseudo_id_policy_for_annat_and_okant() -> None:
    """Parity for annat/okant is a stable keyed bit: both parities occur, neither is fixed."""
    born = date(2015, 6, 1)
    ids = [_number(born, n) for n in range(1, 101)]
    for kon in ("annat", "okant"):
        parities = {int(ivo_pseudo_id(b"k" * 32, i, born, kon)[11]) % 2 for i in ids}
        assert parities == {0, 1}
    # A child's id for annat matches the girl or boy variant: only the parity bit differs.
    for i in ids:
        annat = ivo_pseudo_id(b"k" * 32, i, born, "annat")
        assert annat in {
            ivo_pseudo_id(b"k" * 32, i, born, "flicka"),
            ivo_pseudo_id(b"k" * 32, i, born, "pojke"),
        }


def test_ivo_pseudo_id_rejects_unknown_kon() -> None:
    with pytest.raises(ValueError, match="kon 'kvinna'"):
        ivo_pseudo_id(b"k" * 32, "198211059954", date(1982, 11, 5), "kvinna")
