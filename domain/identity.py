"""Child identity: personnummer, samordningsnummer, temporary ids and keyed pseudonyms.

A barnärende is about one child, and the child is identified in three possible ways
(docs/law.md §6):

* **personnummer** — ``YYMMDD`` + separator + ``NNN`` (födelsenummer 001–999) + check digit.
  Registers store it as 12 digits with the century (FOL 18 §), so that is our canonical form.
* **samordningsnummer** — the same layout with the day of birth plus 60 (day 61–91), issued to
  people who are not folkbokförda (FOL 18 a §). Same Luhn check.
* **tillfälligt id** — children without a number (newborns, unaccompanied minors) get an internal
  ``TMP-`` id (format below) until a number is known; ``identitet_uppdaterad`` then links the two.

Parsing is strict and says in one short English line what is wrong, because the message ends up
in an ``EventValidationError`` shown to the integrating system's developers.

Century resolution for 10-digit input needs a reference date. Following Skatteverket (and the
``personnummer`` library) the rule is *year based*: ``+`` is used from the calendar year the
person turns 100, so ``-`` (or no separator) means the most recent year ending in ``YY`` that is
not after the reference year, and ``+`` the most recent one at least 100 years before it. The
reference date is the caller's ``today`` keyword and nothing here reads the clock: this module
runs inside the Temporal workflow's update validator (through ``domain.events.parse_event``,
which passes the event's own legal date), where a clock read would make a replay disagree with
its history, and where the validator and the append activity must resolve the same number to
the same century even across a New Year. A 10-digit number without a reference date is refused
with ``ValueError`` (a programming error, not bad input); 12-digit and temporary ids need none.

Nothing here derives kön: the sex digit is exposed (``sex_digit``/``is_male``) only because the
test vectors and Skatteverket define it, and docs/law.md §6 says not to use it as a sex/gender
attribute. The child's kön always comes from the event's ``kon`` field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

__all__ = [
    "KINDS",
    "TEMPORARY_ID_ALPHABET",
    "ChildIdentifier",
    "InvalidIdentity",
    "format_identifier",
    "is_male",
    "ivo_pseudo_id",
    "luhn_check_digit",
    "new_temporary_id",
    "parse_child_identifier",
    "parse_temporary_id",
    "pseudonym",
    "sex_digit",
]

KINDS: Final = ("personnummer", "samordningsnummer", "tillfalligt_id")
KONS: Final = ("flicka", "pojke", "annat", "okant")

#: Crockford's base32 alphabet: digits and upper-case letters without I, L, O and U, so that a
#: temporary id read aloud over the phone or copied by hand cannot confuse 1/I/L or 0/O.
TEMPORARY_ID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TMP_RANDOM_LEN: Final = 6
_TMP_RE: Final = re.compile(
    r"TMP-(?P<kommun>[0-9]{4})-(?P<issued>[0-9]{8})-(?P<suffix>[" + TEMPORARY_ID_ALPHABET + r"]{6})"
)
# Optional 2-digit century, YYMMDD, optional separator, NNN, check digit.
_NUMBER_RE: Final = re.compile(
    r"(?P<century>[0-9]{2})?(?P<yymmdd>[0-9]{6})(?P<sep>[-+]?)(?P<nnn>[0-9]{3})(?P<check>[0-9])"
)
_CENTURIES: Final = (18, 19, 20)
_SAMORDNING_OFFSET: Final = 60


class InvalidIdentity(ValueError):
    """The identifier is not a valid personnummer, samordningsnummer or temporary id."""


@dataclass(frozen=True)
class ChildIdentifier:
    """A parsed, validated child identifier.

    ``canonical`` is what we store and pseudonymise: 12 digits without separator for
    personnummer/samordningsnummer (the register form), the upper-case ``TMP-…`` id otherwise.
    ``birth_date`` is the date encoded in the number (for a samordningsnummer the day minus 60);
    it is ``None`` for a temporary id. Skatteverket may use a nearby day when numbers run out, so
    treat it as the *registered* date, not proof of the exact day of birth.
    """

    kind: str  # personnummer | samordningsnummer | tillfalligt_id
    canonical: str
    birth_date: date | None


# --------------------------------------------------------------------------------------------
# Personnummer / samordningsnummer


def luhn_check_digit(nine_digits: str) -> int:
    """Check digit over ``YYMMDDNNN``: weights 2,1,2,…, products over 9 summed (docs/law.md §6)."""
    if len(nine_digits) != 9 or not nine_digits.isdigit():
        raise ValueError("Luhn input must be exactly 9 digits (YYMMDDNNN)")
    total = 0
    for i, ch in enumerate(nine_digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def _reference(today: date | None) -> date:
    """The reference date of a 10-digit number; never the clock (module docstring)."""
    if today is None:
        raise ValueError("a 10-digit personnummer needs a reference date (today=...)")
    return today


def _resolve_century(yy: int, sep: str, today: date | None) -> int:
    """Full year for a 10-digit number (year based, see the module docstring)."""
    ref = _reference(today)
    base = ref.year - 100 if sep == "+" else ref.year
    return base - ((base - yy) % 100)


def _parse_number(text: str, today: date | None) -> ChildIdentifier:
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        raise InvalidIdentity(
            "expected 10 or 12 digits, optionally with '-' or '+' before the last four"
        )
    yymmdd = match["yymmdd"]
    nnn = match["nnn"]
    sep = match["sep"]
    yy, month, day_field = int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6])

    if nnn == "000":
        raise InvalidIdentity("födelsenummer 000 does not exist")
    if luhn_check_digit(yymmdd + nnn) != int(match["check"]):
        raise InvalidIdentity("check digit (Luhn) does not match")
    if not 1 <= month <= 12:
        raise InvalidIdentity(f"month {month:02d} does not exist")

    if match["century"] is not None:
        century = int(match["century"])
        if century not in _CENTURIES:
            raise InvalidIdentity(f"century {century} is not 18, 19 or 20")
        year = century * 100 + yy
        resolved_from_today = False
    else:
        year = _resolve_century(yy, sep, today)
        resolved_from_today = True

    kind = "personnummer"
    day = day_field
    if day_field > _SAMORDNING_OFFSET:
        kind = "samordningsnummer"
        day = day_field - _SAMORDNING_OFFSET
    last_day = monthrange(year, month)[1]
    if not 1 <= day <= last_day:
        what = f"day {day_field:02d}"
        if kind == "samordningsnummer":
            what = f"samordningsnummer day {day_field:02d} (day {day:02d})"
        raise InvalidIdentity(f"{what} does not exist in {year:04d}-{month:02d}")
    born = date(year, month, day)

    if resolved_from_today and born > _reference(today):
        # Same year, later date: "-" says under 100 this year, so the alternative century
        # would need "+". The number is self-contradictory as of the reference date.
        raise InvalidIdentity("birth date is after the reference date")
    canonical = f"{year:04d}{month:02d}{day_field:02d}{nnn}{match['check']}"
    return ChildIdentifier(kind, canonical, born)


#: A run of digits shaped like a personnummer/samordningsnummer inside free text: 10 or 12 digits,
#: optionally with "-" or "+" before the last four, not part of a longer number.
_EMBEDDED_RE: Final = re.compile(r"(?<![0-9])(?:[0-9]{2})?([0-9]{6})[-+]?([0-9]{4})(?![0-9])")


def contains_identity_number(text: str) -> bool:
    """Whether free text holds something that is a valid personnummer or samordningsnummer.

    Free-text fields (reasons, conclusions) travel in events to the store, Temporal payloads and
    reports; a personnummer must reach none of them (docs/security.md). The check needs no clock:
    a real month, a day 1-31 (or 61-91 for a samordningsnummer) and the Luhn digit, so the same
    text gives the same answer in a workflow's replay as at the API.
    """
    for match in _EMBEDDED_RE.finditer(text):
        yymmdd, last4 = match.group(1), match.group(2)
        month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
        if not 1 <= month <= 12 or not (1 <= day <= 31 or 61 <= day <= 91):
            continue
        if luhn_check_digit(yymmdd + last4[:3]) == int(last4[3]):
            return True
    return False


def format_identifier(
    ident: ChildIdentifier, *, long: bool = True, today: date | None = None
) -> str:
    """Written form with separator: ``YYYYMMDD-NNNC`` (long) or ``YYMMDD-NNNC``/``YYMMDD+NNNC``.

    The short form's separator depends on the reference year (``+`` from the year the person
    turns 100), so it needs ``today`` like parsing does. Temporary ids are returned unchanged.
    """
    if ident.kind == "tillfalligt_id":
        return ident.canonical
    c = ident.canonical
    if long:
        return f"{c[0:8]}-{c[8:12]}"
    ref = _reference(today)
    sep = "+" if ref.year - int(c[0:4]) >= 100 else "-"
    return f"{c[2:8]}{sep}{c[8:12]}"


def sex_digit(ident: ChildIdentifier) -> int:
    """The third digit of the födelsenummer (odd: man, even: woman in the register).

    Exposed for validation against the published test vectors only. It is **not** the child's
    kön: use the event's ``kon`` field (flicka/pojke/annat/okant) for every report and rule.
    """
    if ident.kind == "tillfalligt_id":
        raise InvalidIdentity("a temporary id has no sex digit")
    return int(ident.canonical[10])


def is_male(ident: ChildIdentifier) -> bool:
    """True when the sex digit is odd. Same caveat as ``sex_digit``: never a kön attribute."""
    return sex_digit(ident) % 2 == 1


# --------------------------------------------------------------------------------------------
# Temporary ids
#
# Format: ``TMP-<kommun>-<yyyymmdd>-<XXXXXX>``
#   kommun    the issuing kommun's 4-digit kommunkod (a temporary id is only unique per kommun);
#   yyyymmdd  the date the id was issued (not the birth date, which is often unknown);
#   XXXXXX    6 characters of Crockford base32 (30 random bits) from caller-supplied entropy.
# Parsing is case-insensitive and the canonical form is upper case.


def new_temporary_id(kommun: str, issued: date, entropy: bytes) -> str:
    """A new temporary id for a child without a number.

    Pure on purpose: the caller passes ``entropy`` (at least 4 bytes, e.g.
    ``secrets.token_bytes(4)`` in an activity, or bytes from ``workflow.random()`` in a workflow)
    so the function is replay-safe.
    Only the first 30 bits are used; about 10^9 ids per kommun and day makes collisions unlikely,
    and the caller must still check for an existing id before use.
    """
    if not (len(kommun) == 4 and kommun.isdigit()):
        raise InvalidIdentity(f"kommun {kommun!r} is not a 4-digit kommunkod")
    if len(entropy) < 4:
        raise ValueError("entropy must be at least 4 bytes")
    bits = int.from_bytes(entropy[:4], "big") >> 2
    chars = []
    for _ in range(_TMP_RANDOM_LEN):
        chars.append(TEMPORARY_ID_ALPHABET[bits & 0x1F])
        bits >>= 5
    suffix = "".join(reversed(chars))
    return f"TMP-{kommun}-{issued:%Y%m%d}-{suffix}"


def parse_temporary_id(raw: str) -> ChildIdentifier:
    """Validate a ``TMP-<kommun>-<yyyymmdd>-<XXXXXX>`` id (case-insensitive) and canonicalise it."""
    text = raw.strip().upper()
    match = _TMP_RE.fullmatch(text)
    if match is None:
        raise InvalidIdentity(
            "temporary id must look like TMP-<4-digit kommun>-<yyyymmdd>-<6 Crockford base32>"
        )
    issued = match["issued"]
    try:
        date(int(issued[0:4]), int(issued[4:6]), int(issued[6:8]))
    except ValueError as exc:
        raise InvalidIdentity(f"temporary id issue date {issued} does not exist") from exc
    return ChildIdentifier("tillfalligt_id", text, None)


# --------------------------------------------------------------------------------------------
# Entry point


def parse_child_identifier(raw: str, *, today: date | None = None) -> ChildIdentifier:
    """Parse a personnummer, samordningsnummer (10 or 12 digits) or temporary id.

    ``today`` is the reference date for the century of 10-digit input, required for it (the
    event's legal date in ``domain.events``). 12-digit input keeps its century, also with ``+``.
    """
    text = raw.strip()
    if text[:4].upper() == "TMP-":
        return parse_temporary_id(text)
    return _parse_number(text, today)


# --------------------------------------------------------------------------------------------
# Pseudonyms


def pseudonym(key: bytes, kommun: str, identifier: str) -> str:
    """Keyed, non-reversible pseudonym of a child in a kommun.

    Used in Temporal workflow ids and logs instead of the personnummer (OSL 26:1 secrecy). The
    kommun is part of the MAC input so that the same child in two kommuner is not linkable
    without the key. Output: lowercase base32 of the first 15 bytes of HMAC-SHA256 (24 chars,
    ``[a-z2-7]``, no padding) — safe in a workflow id and never containing the number's digits.
    """
    mac = hmac.digest(key, f"{kommun}:{identifier}".encode(), "sha256")
    return base64.b32encode(mac[:15]).decode().lower()


_SHA256_BLOCK = 64


def ivo_pseudo_id(key: bytes, identifier_canonical: str, birth_date: date, kon: str) -> str:
    """IVO's pseudo-identifier ``YYYYMMDD-Txyz`` for EVB individrapporter (docs/domain.md §5.2).

    The three digits come from HMAC-SHA256(key, ``"ivo:" + identifier``), so they are stable for
    the individual across quarters and reveal nothing of the födelsenummer. IVO's form encodes
    sex in ``y``: even for a woman (``flicka``), odd for a man (``pojke``).

    Policy for ``annat`` and ``okant`` (IVO's form has no third value): the parity of ``y`` is
    taken from the HMAC as well, i.e. it is a stable pseudo-random bit. We deliberately do not
    fall back to the personnummer's sex digit (docs/law.md §6: not a kön attribute); the report's
    separate kön column carries the true value. Two children with the same birth date and kön
    collide with probability 1/500, the same limitation IVO's own scheme has.
    """
    if kon not in KONS:
        raise ValueError(f"kon {kon!r} is not one of {', '.join(KONS)}")
    mac = _hmac_sha256(key, f"ivo:{identifier_canonical}".encode())
    n = int.from_bytes(mac[:8], "big")
    x = n % 10
    y_half = (n // 10) % 5
    z = (n // 50) % 10
    if kon == "flicka":
        parity = 0
    elif kon == "pojke":
        parity = 1
    else:
        parity = (n // 500) % 2
    y = 2 * y_half + parity
    # ``%Y%m%d`` (strftime is slow; the same text from year 1000 on)
    born = birth_date.isoformat().replace("-", "") if birth_date.year >= 1000 else None
    return f"{born or format(birth_date, '%Y%m%d')}-T{x}{y}{z}"


@lru_cache(maxsize=8)
def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's inner and outer hashes with ``key``'s pads absorbed (RFC 2104), once per
    key: a rebuild computes an IVO id per case, and ``hmac.digest`` sets the key up each time
    (most of its cost). ``test_identity`` checks the MAC against ``hmac.digest``."""
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def _hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """``hmac.digest(key, msg, "sha256")``, from the key's cached pads."""
    inner, outer = _hmac_pads(key)
    h = inner.copy()
    h.update(msg)
    o = outer.copy()
    o.update(h.digest())
    return o.digest()
