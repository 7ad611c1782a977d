"""Builders for docs/domain.md §4 event lines used across tests (valid by default)."""

from __future__ import annotations

import itertools
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.calendar import STOCKHOLM, legal_date, start_of_day
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


# --- dates in tests: always Europe/Stockholm ------------------------------------------------------
# Every date a test derives from "now" comes from these, never from ``date.today()`` or the UTC
# date: between 00:00 and 01:00 (02:00 in summer) Stockholm time the two differ, and a test that
# backdates an event by minutes could put it on yesterday's legal date, where a same-day frist
# (A1) is already late. The clock they read is the test clock (BARNFLOW_TEST_CLOCK, conftest).


def stockholm_now() -> datetime:
    """Now, as an aware Europe/Stockholm datetime."""
    return datetime.now(STOCKHOLM)


def stockholm_today() -> date:
    """Today's legal date (Europe/Stockholm), what the guards and the frister count from."""
    return legal_date(stockholm_now())


def days_ago(n: int, *, at: time = time(10, 0)) -> datetime:
    """``at`` o'clock Stockholm time, ``n >= 1`` legal days before today.

    A fixed local hour instead of ``now - n days``: events a test adds minutes later stay on the
    same legal date, and the moment is in the past whatever time it is now.
    """
    if n < 1:
        raise ValueError("days_ago needs n >= 1 (use earlier_today for today)")
    return datetime.combine(stockholm_today() - timedelta(days=n), at, tzinfo=STOCKHOLM)


def earlier_today(count: int = 1, *, within: timedelta = timedelta(minutes=30)) -> list[datetime]:
    """``count`` increasing moments of today (Stockholm) from the last ``within`` before now.

    Never before 00:00 today (so a same-day frist is met by the next step, not late by accident)
    and never in the future (P-FUTURE): just after midnight the moments are seconds apart.
    """
    now = stockholm_now()
    start = max(now - within, start_of_day(legal_date(now)))
    step = (now - start) / (count + 1)
    return [start + step * (i + 1) for i in range(count)]


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


def klagomal_line(case_ref: str, n: int, start: datetime) -> dict[str, Any]:
    """The ``n``-th klagomål of ``case_ref``, ``n`` minutes after ``start``: a line any case
    accepts as often as wanted (the store tests' cheapest append)."""
    return line(
        "klagomal_mottaget",
        {"klagomal_id": f"kl-{n}"},
        at=start + timedelta(minutes=n),
        key=f"{case_ref}-kl-{n}",
        case_ref=case_ref,
    )
