"""The rebuild's shortcuts build the same objects as the plain constructors.

``emit`` fills a ``Frist`` without its frozen ``__init__`` and ``event_from_json`` shares the
parsed ``occurred_at`` and ``Actor`` of equal texts: both must give, field for field (the fields
``==`` ignores too), what the dataclass constructors give. The IVO id's HMAC comes from the
key's cached pads: the same MAC as ``hmac``, the same id as before.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
from dataclasses import fields
from datetime import date, timedelta

import pytest
from frist_builders import ev

from domain.calendar import add_months, legal_date
from domain.events import CaseEvent, event_from_json
from domain.frister import Frist, compute_frister
from domain.identity import _hmac_sha256, ivo_pseudo_id


def _case() -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2025-10-01", anmalan_id="a1", anmalare_begart_information=True),
        ev("skyddsbedomning_gjord", "2025-10-01", anmalan_id="a1", omedelbart_skydd=False),
        ev("forhandsbedomning_beslutad", "2025-10-09", anmalan_id="a1", beslut="inleda_utredning"),
        ev("utredning_inledd", "2025-10-09", utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", "2026-01-20", utredning_id="u1", utfall="insats"),
        ev(
            "beslut_fattat",
            "2026-01-22T23:30:00+01:00",
            beslut_id="b1",
            gynnande=True,
            insats="familjehem",
        ),
        ev("anmalan_mottagen", "2026-03-29T01:30:00+01:00", anmalan_id="a2"),
    ]


def test_emit_builds_what_frist_init_does() -> None:
    frister = compute_frister(_case(), as_of=None)
    assert len(frister) > 5
    for f in frister:
        made = Frist(**{fl.name: getattr(f, fl.name) for fl in fields(Frist)})
        assert vars(f) == vars(made)  # the same fields, ``notes`` and ``arithmetic`` included


def test_event_from_json_is_the_parsed_event() -> None:
    for e in _case() * 2:  # the second time from the parse caches
        back = event_from_json(e.to_json())
        assert back == e
        assert back.legal_date == e.legal_date == legal_date(e.occurred_at)
        assert {k: v for k, v in vars(back).items() if k != "_legal_date"} == {
            k: v for k, v in vars(e).items() if k != "_legal_date"
        }


@pytest.mark.parametrize("size", [0, 1, 32, 63, 64, 65, 200])
def test_ivo_mac_is_hmac_sha256(size: int) -> None:
    key = bytes(range(256))[:size] or b""
    for msg in (b"", b"ivo:201501012384", "ivo:T-åäö".encode() * 40):
        assert _hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_ivo_pseudo_id_as_before() -> None:
    """The id as the HMAC and strftime gave it before the shortcuts."""
    key = b"k" * 32
    for ident, born, kon in (
        ("201501012384", date(2015, 1, 1), "flicka"),
        ("200912319876", date(2009, 12, 31), "pojke"),
        ("T-1", date(1999, 3, 4), "annat"),
        ("T-2", date(2020, 2, 29), "okant"),
        ("T-3", date(999, 5, 6), "okant"),
    ):
        n = int.from_bytes(hmac.new(key, f"ivo:{ident}".encode(), hashlib.sha256).digest()[:8])
        parity = {"flicka": 0, "pojke": 1}.get(kon, (n // 500) % 2)
        want = f"{born:%Y%m%d}-T{n % 10}{2 * ((n // 10) % 5) + parity}{(n // 50) % 10}"
        assert ivo_pseudo_id(key, ident, born, kon) == want


def test_add_months_clamps_as_monthrange_does() -> None:
    def with_monthrange(day: date, months: int) -> date:
        year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
        return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))

    day = date(1996, 1, 1)
    while day < date(2105, 1, 1):
        for months in (-13, -1, 1, 2, 3, 4, 6, 12, 36, 48):
            assert add_months(day, months) == with_monthrange(day, months), (day, months)
        day += timedelta(days=1)
