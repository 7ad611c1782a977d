"""Builders for docs/domain.md §4 event lines used across tests (valid by default)."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta
from typing import Any

from domain.calendar import STOCKHOLM
from domain.identity import luhn_check_digit

# Valid personnummer (Luhn-correct, födelsenummer != 000), made up for tests.
PNR_GIRL = "201203041239"
PNR_BOY = "200801012345"
PNR_THIRD = "201005152341"
PNR_FOURTH = "201702285675"


def line(
    etype: str,
    data: dict[str, Any],
    *,
    at: datetime,
    key: str,
    kommun: str = "1280",
    case_ref: str = "VS-2026-00417",
    actor: str = "u123",
) -> dict[str, Any]:
    return {
        "kommun": kommun,
        "case_ref": case_ref,
        "type": etype,
        "occurred_at": at.astimezone(STOCKHOLM).isoformat(),
        "actor": {"id": actor, "roll": "socialsekreterare"},
        "idempotency_key": key,
        "data": data,
    }


def anmalan(
    at: datetime, *, anmalan_id: str = "anm-1", pnr: str = PNR_GIRL, kon: str = "flicka", **kw: Any
) -> dict[str, Any]:
    return line(
        "anmalan_mottagen",
        {
            "anmalan_id": anmalan_id,
            "barn": {"personnummer": pnr, "kon": kon},
            "anmalare_kategori": "skola",
        },
        at=at,
        key=kw.pop("key", f"k-{anmalan_id}"),
        **kw,
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)


def fresh_pnr(year: int = 2014, *, girl: bool = True) -> str:
    """A valid, made-up personnummer never used before in this process: a shared dev server
    holds one workflow per child, so tests on it must not share children."""
    serial = next(_serials)
    month, day = 1 + serial // 28 % 12, 1 + serial % 28
    number = serial % 500 * 2 + (0 if girl else 1)  # födelsenummer parity = kön
    nine = f"{year % 100:02d}{month:02d}{day:02d}{number:03d}"[-9:]
    if nine.endswith("000"):
        return fresh_pnr(year, girl=girl)
    return f"{year}{month:02d}{day:02d}{number:03d}{luhn_check_digit(nine)}"


_serials = itertools.count(secrets.randbelow(500) + 1)
