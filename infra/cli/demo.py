"""Demo cases: a realistic, deterministic set of backdated barnärenden for two kommuner.

History (everything before today) is recorded in the store and adopted into workflows, as an
import would; the newest step of some cases is then sent live as a command, as a
verksamhetssystem would. Personnummer are synthetic (valid Luhn, generated from a fixed seed).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.calendar import STOCKHOLM, days_between
from domain.identity import luhn_check_digit

KOMMUNER = ("1280", "0127")  # Malmö, Botkyrka
Line = dict[str, Any]


def synthetic_pnr(born: date, rng: random.Random, girl: bool) -> str:
    """A valid 12-digit personnummer for ``born`` whose sex digit matches (demo data only)."""
    serial = rng.randrange(10, 99) * 10 + rng.choice((0, 2, 4, 6, 8) if girl else (1, 3, 5, 7, 9))
    serial = max(serial, 1)
    nine = f"{born:%y%m%d}{serial:03d}"
    return f"{born:%Y}{nine[2:]}{luhn_check_digit(nine)}"


@dataclass
class DemoCase:
    kommun: str
    case_ref: str
    pnr: str
    kon: str
    history: list[Line] = field(default_factory=list)
    live: list[Line] = field(default_factory=list)


class _Builder:
    def __init__(self, case: DemoCase, start: date, today: date) -> None:
        self.case, self.start, self.today, self.n = case, start, today, 0

    def at(self, day: int, hour: int = 10) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time(hour, 0), tzinfo=STOCKHOLM)

    def add(
        self,
        day: int,
        etype: str,
        data: dict[str, Any],
        roll: str = "socialsekreterare",
        *,
        live: bool = False,
    ) -> None:
        self.n += 1
        c = self.case
        ln = {
            "kommun": c.kommun,
            "case_ref": c.case_ref,
            "type": etype,
            "occurred_at": self.at(day).isoformat(),
            "actor": {"id": f"hl-{c.kommun}-{self.n % 3 + 1}", "roll": roll},
            "idempotency_key": f"demo-{c.case_ref}-{self.n}",
            "data": data,
        }
        (c.live if live else c.history).append(ln)


def _path_closed_on_time(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False})
    b.add(6, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    b.add(6, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    b.add(30, "barnet_hort", {"moment": "utredning", "satt": "samtal", "utredning_id": "U1"})
    b.add(95, "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"})
    b.add(95, "beslut_fattat", _beslut("B1", "oppenvard", "socialsekreterare"))
    b.add(110, "insats_verkstalld", {"beslut_id": "B1"})
    b.add(160, "beslut_avslutat", {"beslut_id": "B1", "orsak": "mal_uppnatt"})
    b.add(160, "uppfoljning_inledd", {"grund": "efter_insats"})
    b.add(175, "uppfoljning_avslutad", {})
    b.add(176, "arende_avslutat", {"orsak": "behov_tillgodosett"})


def _path_late_forhandsbedomning(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False})
    b.add(19, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inte_inleda_utredning"})
    b.add(20, "arende_avslutat", {"orsak": "ingen_utredning"})


def _path_forhandsbedomning_overdue(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False})


def _path_utredning_overdue(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False})
    b.add(10, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    b.add(10, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    b.add(
        40,
        "barnet_ej_hort",
        {"moment": "utredning", "skal": "barnet_ville_inte", "utredning_id": "U1"},
    )


def _path_utredning_extended(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": True})
    b.add(1, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    b.add(1, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    ny = (b.start + timedelta(days=1 + 150)).isoformat()
    b.add(
        100,
        "utredning_forlangd",
        {"utredning_id": "U1", "ny_slutdag": ny, "skal": "inväntar_BUP_utlatande"},
        "sektionschef",
    )
    b.add(140, "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"})
    b.add(141, "beslut_fattat", _beslut("B1", "familjehem", "utskott"), "utskott")


def _path_live_forhandsbedomning(b: _Builder) -> None:
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False})
    days = days_between(b.start, b.today)
    b.add(
        days,
        "forhandsbedomning_beslutad",
        {"anmalan_id": "A1", "beslut": "inleda_utredning"},
        live=True,
    )
    b.add(
        days,
        "utredning_inledd",
        {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"},
        live=True,
    )


def _lvu_omhandertagande(b: _Builder, day: int) -> None:
    """An omedelbart omhändertagande by the ordförande, verkställt, underställt within the week
    and an ansökan om vård to the förvaltningsrätt within four weeks (LVU 6-8 §§)."""
    ordf = {"beslut_id": "L1", "delegat": {"id": f"ordf-{b.case.kommun}", "roll": "ordforande"}}
    b.add(day, "lvu_omhandertagande_beslutat", ordf, "ordforande")
    b.add(day, "lvu_omhandertagande_verkstallt", {"beslut_id": "L1"})
    b.add(day + 4, "lvu_understalld", {"beslut_id": "L1"})
    b.add(day + 9, "lvu_ansokan_inlamnad", {"beslut_id": "L1", "grund": "hem"})


def _path_lvu_ansokan_pending(b: _Builder) -> None:
    """Compulsory care in its first weeks: omhändertagen, underställd, ansökan waiting for dom."""
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": True})
    b.add(0, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    b.add(0, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    _lvu_omhandertagande(b, 1)


def _path_lvu_vard(b: _Builder) -> None:
    """Vård under way: the förvaltningsrätt granted vård (LVU 2 §) while the child was already
    omhändertagen, so vården began at the dom and the six-month övervägande runs from it."""
    b.add(0, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": True})
    b.add(0, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    b.add(0, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    _lvu_omhandertagande(b, 2)
    b.add(25, "barnet_hort", {"moment": "utredning", "satt": "samtal", "utredning_id": "U1"})
    b.add(30, "utredning_avslutad", {"utredning_id": "U1", "utfall": "lvu_ansokan"})
    dom = {"utfall": "bifall", "beslut_id": "L1", "paragraf": "2"}
    b.add(40, "lvu_dom", dom, "forvaltningsratt")
    # umgänge with the vårdnadshavare restricted (LVU 14 §): reviewed every three months
    umgange = {"begransning_id": "UB1", "slag": "umgange"}
    b.add(75, "lvu_umgangesbegransning_beslutad", umgange, "utskott")


def _beslut(bid: str, insats: str, roll: str) -> dict[str, Any]:
    return {
        "beslut_id": bid,
        "lagrum": "SoL 11:1" if insats != "familjehem" else "SoL 22:1",
        "beslutstyp": "insats",
        "insats": insats,
        "gynnande": True,
        "delegat": {"id": f"d-{roll}", "roll": roll},
    }


#: (profile, days since the anmälan came in)
PROFILES: list[tuple[Callable[[_Builder], None], int]] = [
    (_path_closed_on_time, 240),
    (_path_late_forhandsbedomning, 90),
    (_path_forhandsbedomning_overdue, 20),
    (_path_utredning_overdue, 170),
    (_path_utredning_extended, 200),
    (_path_live_forhandsbedomning, 9),
    (_path_lvu_ansokan_pending, 12),
    (_path_lvu_vard, 110),
]


def demo_cases(today: date, seed: int = 2026) -> list[DemoCase]:
    """Sixteen cases: every profile once per kommun, both sexes, ages spread over 0–20."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    cases: list[DemoCase] = []
    ages = [0, 3, 7, 10, 12, 14, 15, 16, 17, 18, 19, 20, 13, 16, 11, 15]
    for i, (kommun, (profile, ago)) in enumerate((k, p) for k in KOMMUNER for p in PROFILES):
        girl = i % 2 == 0
        age = ages[i % len(ages)]
        start = today - timedelta(days=ago)
        born = start - timedelta(days=365 * age + rng.randrange(30, 300))
        case = DemoCase(
            kommun,
            f"DEMO-{kommun}-{i + 1:03d}",
            synthetic_pnr(born, rng, girl),
            "flicka" if girl else "pojke",
        )
        b = _Builder(case, start, today)
        b.add(
            0,
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": case.pnr, "kon": case.kon},
                "anmalare_kategori": rng.choice(
                    ["skola", "polis", "halso_och_sjukvard", "privatperson"]
                ),
                "enhet": f"{kommun}-barn-{i % 2 + 1}",
                "handlaggare": f"hl-{kommun}-{i % 3 + 1}",
            },
        )
        profile(b)
        cases.append(case)
    return cases
