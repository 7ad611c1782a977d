"""Builders for DOMAIN.md §4 event lines used across tests (valid by default)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.calendar import STOCKHOLM

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
