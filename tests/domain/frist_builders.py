"""Event builders shared by the frist/rules tests (valid docs/domain.md §4 lines, really parsed)."""

from __future__ import annotations

from itertools import count
from typing import Any

from domain.events import CaseEvent, parse_event
from domain.identity import luhn_check_digit

_SEQ = count(1)


def luhn_pnr(stem: str) -> str:
    """A 12-digit personnummer with a correct check digit for an 11-digit ``stem``."""
    return stem + str(luhn_check_digit(stem[2:11]))


PNR = luhn_pnr("20150101238")
BARN = {"personnummer": PNR, "kon": "flicka"}


def line(
    etype: str, when: str, *, case_ref: str = "VS-1", kommun: str = "1280", **data: Any
) -> dict[str, Any]:
    """A raw line; ``when`` is a date (10:00 local) or a full ISO timestamp."""
    occurred = when if "T" in when else f"{when}T10:00:00+01:00"
    if etype in ("anmalan_mottagen", "ansokan_mottagen"):
        data.setdefault("barn", BARN)
    if etype == "anmalan_mottagen":
        data.setdefault("anmalare_kategori", "skola")
    if etype == "ansokan_mottagen":
        data.setdefault("sokande", "vardnadshavare")
    if etype == "beslut_fattat":
        data.setdefault("lagrum", "SoL 11:1")
        data.setdefault("beslutstyp", "bistand")
        data.setdefault("delegat", {"id": "d1", "roll": "sektionschef"})
    return {
        "kommun": kommun,
        "case_ref": case_ref,
        "type": etype,
        "occurred_at": occurred,
        "actor": {"id": "u1", "roll": "socialsekreterare"},
        "idempotency_key": f"k-{next(_SEQ)}",
        "data": data,
    }


def ev(etype: str, when: str, **data: Any) -> CaseEvent:
    return parse_event(line(etype, when, **data), allow_system=True)
