"""Event lines for the API tests: one whole case from anmälan to avslut, dated today."""

from __future__ import annotations

from typing import Any

from tests.factories import earlier_today, line


def lifecycle(ref: str, pnr: str, *, enhet: str = "barn-vast") -> list[dict[str, Any]]:
    moments = earlier_today(9)  # all on today's legal date, none in the future

    def ev(etype: str, data: dict[str, Any], n: int) -> dict[str, Any]:
        return line(etype, data, at=moments[n - 1], key=f"{ref}-{n}", case_ref=ref)

    beslut = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "oppenvard",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
    }
    return [
        ev(
            "anmalan_mottagen",
            {
                "anmalan_id": "anm-1",
                "barn": {"personnummer": pnr, "kon": "flicka"},
                "anmalare_kategori": "skola",
                "enhet": enhet,
            },
            1,
        ),
        ev("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}, 2),
        ev("forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}, 3),
        ev(
            "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}, 4
        ),
        ev("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}, 5),
        ev("beslut_fattat", beslut, 6),
        ev("insats_verkstalld", {"beslut_id": "b1"}, 7),
        ev("beslut_avslutat", {"beslut_id": "b1", "orsak": "mal_uppnatt"}, 8),
        ev("arende_avslutat", {"orsak": "insats_avslutad"}, 9),
    ]
