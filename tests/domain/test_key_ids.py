"""The key ids a gallring records (``gallring_verkstalld``'s ``nyckel``, ``temporal_nyckel``) are
barnflow's own random hex, matched by shape rather than by the free-text identity check: about
once in two thousand keys the hex holds ten digits shaped like a samordningsnummer, and the
gallring of that key was refused (seen in a test run: ``7f2e1201686449b4``). POL-KEY-ID."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import EventValidationError
from domain.events import parse_event
from domain.identity import contains_identity_number

#: A data key id from a failed run: 12-01-68 (the 8th, samordningsnummer), serial 644, Luhn 9.
SEEN = "7f2e1201686449b4"


def _line(**data: Any) -> dict[str, Any]:
    return {
        "type": "gallring_verkstalld",
        "kommun": "1280",
        "case_ref": "VS-KEY",
        "occurred_at": "2026-11-30T10:00:00+01:00",
        "idempotency_key": "gallring-1",
        "actor": {"id": "system", "roll": "system"},
        "data": {
            "klass": "utredning",
            "regel": "G2",
            "paragraf": "7 kap. 3 §",
            "gallringsbeslut": "GN 2026-11 §42",
            **data,
        },
    }


def test_the_key_id_seen_holds_a_samordningsnummer_shaped_run() -> None:
    assert contains_identity_number(SEEN)  # why free text refused it


@pytest.mark.parametrize(
    "data",
    [
        {"nyckel": SEEN},
        {"nyckel": SEEN, "temporal_nyckel": f"wk-{SEEN},wk-3c9e1f0a7b2d4e65"},
        {"nyckel": "k-7f3a9c"},  # the docs' example
    ],
)
def test_a_gallring_records_any_key_id_barnflow_generates(data: dict[str, str]) -> None:
    ev = parse_event(_line(**data), allow_system=True)
    assert {k: ev.data[k] for k in data} == data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nyckel", "nyckeln för 121212-1212"),
        ("nyckel", "121212-1212"),
        ("nyckel", "7F2E1201686449B4"),  # never upper case
        ("temporal_nyckel", f"wk-{SEEN}, wk-3c9e1f0a7b2d4e65"),
        ("temporal_nyckel", ""),
    ],
)
def test_anything_else_in_a_key_id_field_is_refused(field: str, value: str) -> None:
    data = {"nyckel": SEEN, field: value}
    with pytest.raises(EventValidationError, match=f"data.{field}"):
        parse_event(_line(**data), allow_system=True)


def test_a_gallringsbeslut_is_still_free_text_checked_for_identity_numbers() -> None:
    line = _line(nyckel=SEEN)
    line["data"]["gallringsbeslut"] = "GN §42 om 121212-1212"
    with pytest.raises(EventValidationError, match="personnummer"):
        parse_event(line, allow_system=True)
