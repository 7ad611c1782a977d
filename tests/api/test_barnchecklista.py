"""The barnchecklista over HTTP (issue #17 item 4): a beslut whose utredning heard the child and
that was delgiven to ``barnet`` is hört and informerat; one delgiven only to a vårdnadshavare and
never heard is neither; both are berörda (POL-BARNCHECK-BEROR), and the enhet's summary counts
them. The half-year is the one of today (``?half=``)."""

from __future__ import annotations

from typing import Any

import httpx

from domain.calendar import legal_date
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line, stockholm_now


def _beslut(bid: str, **extra: Any) -> dict[str, Any]:
    return {
        "beslut_id": bid,
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "kontaktperson",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
        **extra,
    }


async def _checklist(
    http: httpx.AsyncClient, token: Token, ref: str, steps: list[tuple[str, dict[str, Any]]]
) -> tuple[httpx.Response, str]:
    """Send ``steps`` as case ``ref`` today, then ask for this half-year's barnchecklista once
    the views hold them; the response and the half-year's label."""
    moments = earlier_today(len(steps))
    position = 0
    for i, (etype, data) in enumerate(steps):
        step = line(etype, data, at=moments[i], key=f"{ref}-{i}", case_ref=ref, kommun="1280")
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
        position = int(r.json()["position"])
    today = legal_date(stockholm_now())
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    r = await http.get(
        "/reports/barnchecklista",
        params={"half": half, "min_position": position},
        headers=token("auditor"),
    )
    assert r.status_code == 200, r.text
    return r, half


async def test_each_beslut_of_the_half_year_shows_whether_the_child_was_heard_and_informed(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    steps: list[tuple[str, dict[str, Any]]] = [
        ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "skola",
                              "barn": {"personnummer": new_pnr(), "kon": "flicka"},
                              "enhet": "barn-nord"}),
        ("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
        ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ("barnet_hort", {"moment": "utredning", "satt": "samtal", "utredning_id": "u1"}),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ("beslut_fattat", _beslut("b1", utredning_id="u1")),
        ("beslut_delgivet", {"beslut_id": "b1", "part": "barnet"}),
        ("beslut_fattat", _beslut("b2")),
        ("beslut_delgivet", {"beslut_id": "b2", "part": "vardnadshavare_1"}),
    ]  # fmt: skip
    r, half = await _checklist(http, token, ref, steps)
    body = r.json()
    assert body["period"]["label"] == half
    mine = {x["beslut_id"]: x for x in body["rows"] if x["case_ref"] == ref}
    assert {b: (x["berord"], x["hord"], x["informerad"]) for b, x in mine.items()} == {
        "b1": (True, True, True),
        "b2": (True, False, False),
    }
    assert (
        mine["b1"]["enhet"] == "barn-nord"
        and mine["b1"]["datum"] == legal_date(stockholm_now()).isoformat()
    )
    [unit] = [u for u in body["per_enhet"] if u["enhet"] == "barn-nord"]
    assert unit["antal_beslut"] >= 2 and unit["hord"] >= 1 and unit["informerad"] >= 1

    wrong = await http.get("/reports/barnchecklista", params={"month": "2026-01"}, headers=token())
    assert wrong.status_code == 422


async def test_a_unit_only_a_protected_childs_beslut_put_in_the_report_is_not_named(
    http: httpx.AsyncClient, token: Token
) -> None:
    """POL-SKYDD-ENHET: the protected case's row reads ⟨skyddad⟩ for its enhet, and the summary
    per enhet is made from the rows as shown, so it neither names the child's unit nor drops the
    beslut from the counts."""
    ref = new_ref()
    unit = f"enhet-{ref.lower()}"  # a unit that handles this child only
    steps: list[tuple[str, dict[str, Any]]] = [
        ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "skola",
                              "barn": {"personnummer": new_pnr(), "kon": "pojke"},
                              "enhet": unit}),
        ("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
        ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ("beslut_fattat", _beslut("b1", utredning_id="u1")),
        ("skydd_markerat", {"skydd": "skyddad_folkbokforing"}),
    ]  # fmt: skip
    r, _ = await _checklist(http, token, ref, steps)
    body = r.json()
    assert ref not in r.text and unit not in r.text
    units = {u["enhet"]: u for u in body["per_enhet"]}
    assert units["⟨skyddad⟩"]["antal_beslut"] >= 1
    assert sum(u["antal_beslut"] for u in body["per_enhet"]) == len(body["rows"])
