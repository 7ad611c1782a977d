"""A realistic case with everything that must never be readable at rest: identity, names, text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.calendar import STOCKHOLM
from domain.events import CaseEvent, parse_event
from tests.factories import PNR_BOY, PNR_GIRL

HANDLAGGARE = "Astrid Lindqvist-Berg"
SOKANDE = "Karin Johansson Öberg"
SKAL_FORLANGNING = "Mamman befinner sig på behandlingshem i Ystad och kan nås först i april"
SKAL_EJ_HORT = "Barnet vågade inte tala i närvaro av styvpappan Jörgen"
SECRETS_IN_CLEAR = (HANDLAGGARE, SOKANDE, SKAL_FORLANGNING, SKAL_EJ_HORT)


def personnummer_forms(pnr: str) -> list[str]:
    """Every way a personnummer is written: 12 and 10 digits, with '-' and '+' separators."""
    short = pnr[2:]
    return [
        pnr,
        short,
        f"{pnr[:8]}-{pnr[8:]}",
        f"{short[:6]}-{short[6:]}",
        f"{short[:6]}+{short[6:]}",
    ]


def _at(day: str) -> str:
    return datetime.fromisoformat(f"{day}T10:15:00").replace(tzinfo=STOCKHOLM).isoformat()


def _line(case_ref: str, etype: str, day: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kommun": "1280",
        "case_ref": case_ref,
        "type": etype,
        "occurred_at": _at(day),
        "actor": {"id": "u-4711", "roll": "socialsekreterare"},
        "idempotency_key": f"{case_ref}-{key}",
        "data": data,
    }


def anmalan_case(case_ref: str, pnr: str = PNR_GIRL) -> list[CaseEvent]:
    """Anmälan → skyddsbedömning → förlängd förhandsbedömning → utredning → beslut → insats."""
    lines = [
        _line(
            case_ref,
            "anmalan_mottagen",
            "2025-03-03",
            "1",
            {
                "anmalan_id": "a1",
                "barn": {"personnummer": pnr, "kon": "flicka"},
                "anmalare_kategori": "skola",
                "skyddad_anmalare": True,
                "handlaggare": HANDLAGGARE,
                "enhet": "Barn och unga Väster",
            },
        ),
        _line(
            case_ref,
            "skyddsbedomning_gjord",
            "2025-03-03",
            "2",
            {
                "anmalan_id": "a1",
                "omedelbart_skydd": False,
            },
        ),
        _line(
            case_ref,
            "forhandsbedomning_forlangd",
            "2025-03-10",
            "3",
            {
                "anmalan_id": "a1",
                "ny_slutdag": "2025-03-31",
                "skal": SKAL_FORLANGNING,
            },
        ),
        _line(
            case_ref,
            "forhandsbedomning_beslutad",
            "2025-03-20",
            "4",
            {
                "anmalan_id": "a1",
                "beslut": "inleda_utredning",
            },
        ),
        _line(
            case_ref,
            "utredning_inledd",
            "2025-03-20",
            "5",
            {
                "utredning_id": "u1",
                "grund": "anmalan",
                "anmalan_id": "a1",
            },
        ),
        _line(
            case_ref,
            "barnet_ej_hort",
            "2025-04-02",
            "6",
            {
                "moment": "utredning",
                "skal": SKAL_EJ_HORT,
                "utredning_id": "u1",
            },
        ),
        _line(
            case_ref,
            "utredning_avslutad",
            "2025-06-30",
            "7",
            {
                "utredning_id": "u1",
                "utfall": "insats",
            },
        ),
        _line(
            case_ref,
            "beslut_fattat",
            "2025-07-01",
            "8",
            {
                "beslut_id": "b1",
                "lagrum": "SoL 10:1",
                "beslutstyp": "insats",
                "insats": "familjehem",
                "gynnande": True,
                "delegat": {"id": "d-17", "roll": "sektionschef"},
                "belopp_per_dygn": 1200,
            },
        ),
        _line(case_ref, "insats_verkstalld", "2025-07-14", "9", {"beslut_id": "b1"}),
    ]
    return [parse_event(ln) for ln in lines]


def ansokan_case(case_ref: str, pnr: str = PNR_BOY) -> list[CaseEvent]:
    lines = [
        _line(
            case_ref,
            "ansokan_mottagen",
            "2025-05-05",
            "1",
            {
                "ansokan_id": "s1",
                "barn": {"personnummer": pnr, "kon": "pojke"},
                "sokande": SOKANDE,
                "handlaggare": HANDLAGGARE,
            },
        ),
        _line(
            case_ref,
            "utredning_inledd",
            "2025-05-06",
            "2",
            {
                "utredning_id": "u1",
                "grund": "ansokan",
                "ansokan_id": "s1",
            },
        ),
    ]
    return [parse_event(ln) for ln in lines]
