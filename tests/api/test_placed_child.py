"""The placed child over HTTP (issue #15 B): an avvikning keeps the case open for three months
(409 ``P-AVVIKNING``), it is counted in the yearly ``avvikningar`` report (``?year=``), and LVU's
age limit refuses an omedelbart omhändertagande of a 20-year-old (409 ``P-LVU-ALDER``)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import httpx

from domain.calendar import add_years, legal_date
from domain.identity import luhn_check_digit
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line, stockholm_now


def _pnr_born(born: date) -> str:
    nine = f"{born:%y%m%d}{random.randrange(100, 1000)}"
    return f"{born:%Y%m%d}{nine[6:]}{luhn_check_digit(nine)}"


def _steps(ref: str, steps: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    moments = earlier_today(len(steps))
    return [
        line(t, d, at=moments[i], key=f"{ref}-{i}", case_ref=ref, kommun="1280")
        for i, (t, d) in enumerate(steps)
    ]


async def test_an_avvikning_keeps_the_case_open_and_is_counted_in_the_year(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    beslut = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "familjehem",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
    }
    lines = _steps(
        ref,
        [
            ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "polis",
                                  "barn": {"personnummer": new_pnr(), "kon": "pojke"},
                                  "enhet": "barn-ost", "ensamkommande": True}),
            ("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
            ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
            ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
            ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
            ("beslut_fattat", beslut),
            ("insats_verkstalld", {"beslut_id": "b1"}),
            ("avvikning_anmald", {"avvikning_id": "av1", "beslut_id": "b1"}),
            ("avvikning_polis_underrattad", {"avvikning_id": "av1"}),
            ("beslut_avslutat", {"beslut_id": "b1", "orsak": "barnet_forsvunnet"}),
        ],
    )  # fmt: skip
    position = 0
    for step in lines:
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
        position = int(r.json()["position"])
    close = line(
        "arende_avslutat",
        {"orsak": "barnet_forsvunnet"},
        at=stockholm_now(),
        key=f"{ref}-close",
        case_ref=ref,
    )
    refused = await http.post("/commands", json=close, headers=token("handlaggare"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "P-AVVIKNING"

    year = str(legal_date(stockholm_now()).year)
    r = await http.get(
        "/reports/avvikningar",
        params={"year": year, "min_position": position},
        headers=token(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == {
        "kind": "year",
        "label": year,
        "start": f"{year}-01-01",
        "end": f"{year}-12-31",
    }
    [row] = [x for x in body["rows"] if x["case_ref"] == ref]
    assert row["ensamkommande"] is True and row["pagar"] is True and row["enhet"] == "barn-ost"
    wrong = await http.get("/reports/avvikningar", params={"year": "26"}, headers=token())
    assert wrong.status_code == 422 and wrong.json()["field"] == "year"


async def test_an_omedelbart_omhandertagande_of_a_20_year_old_is_refused(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    today = legal_date(stockholm_now())
    pnr = _pnr_born(add_years(today, -20))
    opening, decision = _steps(
        ref,
        [
            ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "polis",
                                  "barn": {"personnummer": pnr, "kon": "flicka"}}),
            ("lvu_omhandertagande_beslutat", {"beslut_id": "l1"}),
        ],
    )  # fmt: skip
    r = await http.post("/commands", json=opening, headers=token("handlaggare"))
    assert r.status_code == 201, r.text
    refused = await http.post("/commands", json=decision, headers=token("handlaggare"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "P-LVU-ALDER"
