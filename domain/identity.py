"""Child identity: personnummer, samordningsnummer, temporary ids and the keyed pseudonym.

(Minimal version; the rules-engine work replaces this with the full parser.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date


class InvalidIdentity(ValueError):
    """The identifier is not a valid personnummer, samordningsnummer or temporary id."""


@dataclass(frozen=True)
class ChildIdentifier:
    kind: str  # personnummer | samordningsnummer | tillfalligt_id
    canonical: str  # 12 digits without separator, or the temporary id as given
    birth_date: date | None


def parse_child_identifier(raw: str) -> ChildIdentifier:
    text = raw.strip()
    if text.upper().startswith("TMP-"):
        return ChildIdentifier("tillfalligt_id", text.upper(), None)
    digits = text.replace("-", "").replace("+", "")
    if not digits.isdigit() or len(digits) != 12:
        raise InvalidIdentity("expected 12 digits YYYYMMDDNNNC")
    nums = [int(c) for c in digits[2:11]]
    total = 0
    for i, n in enumerate(nums):
        p = n * (2 if i % 2 == 0 else 1)
        total += p - 9 if p > 9 else p
    if (10 - total % 10) % 10 != int(digits[11]):
        raise InvalidIdentity("check digit (Luhn) does not match")
    day = int(digits[6:8])
    kind = "samordningsnummer" if day > 60 else "personnummer"
    born = date(int(digits[0:4]), int(digits[4:6]), day - 60 if day > 60 else day)
    return ChildIdentifier(kind, digits, born)


def pseudonym(key: bytes, kommun: str, identifier: str) -> str:
    """Keyed, non-reversible pseudonym of a child in a kommun (safe for workflow ids)."""
    mac = hmac.new(key, f"{kommun}:{identifier}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:15]).decode().lower()
