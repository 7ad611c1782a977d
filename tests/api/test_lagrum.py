"""P-LAGRUM over HTTP (issue #14 item 6): a decision citing a paragraph not in force on its date
is refused with 409 problem+json naming the paragraph in force, and the same decision in an
imported history is recorded and listed in the import's answer, not refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson

from domain.calendar import STOCKHOLM
from domain.ids import case_id_for
from infra.persistence.store import CaseStore
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line, stockholm_now


def _until_beslut(ref: str, pnr: str) -> list[dict[str, Any]]:
    moments = earlier_today(4)
    steps = [
        ("anmalan_mottagen", {"anmalan_id": "a1", "barn": {"personnummer": pnr, "kon": "pojke"},
                              "anmalare_kategori": "skola"}),
        ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
    ]  # fmt: skip
    return [
        line(t, d, at=moments[i], key=f"{ref}-{i}", case_ref=ref) for i, (t, d) in enumerate(steps)
    ]


def _beslut(ref: str, lagrum: str, key: str, at: Any = None) -> dict[str, Any]:
    data = {
        "beslut_id": "b1",
        "lagrum": lagrum,
        "beslutstyp": "insats",
        "insats": "oppenvard",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
    }
    return line("beslut_fattat", data, at=at or stockholm_now(), key=key, case_ref=ref)


async def test_a_repealed_paragraph_is_refused_naming_the_one_in_force(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    for step in _until_beslut(ref, new_pnr()):
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
    refused = await http.post(
        "/commands", json=_beslut(ref, "SoL 4:1", f"{ref}-b"), headers=token("handlaggare")
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["rule"] == "P-LAGRUM"
    assert "SoL 2025:400 11 kap. 1 §" in problem["sv"]
    assert "SoL 2025:400 11 kap. 1 §" in problem["en"]
    accepted = await http.post(
        "/commands", json=_beslut(ref, "SoL 11:1", f"{ref}-b2"), headers=token("handlaggare")
    )
    assert accepted.status_code == 201, accepted.text


async def test_an_imported_history_is_flagged_not_refused(
    http: httpx.AsyncClient, token: Token, api_store: CaseStore
) -> None:
    """A closed 2025 case whose insats decision of 2025-05-20 cites the new act's 11 kap. 1 §:
    imported, stored, and listed with its line and the paragraph then in force."""
    ref, pnr = new_ref(), new_pnr()
    at = stockholm_now().astimezone(STOCKHOLM).replace(year=2025, month=5, day=20, hour=10)
    days = [at - timedelta(days=30), at - timedelta(days=29), at - timedelta(days=28), at]
    history = [
        line(t, d, at=days[min(i, 3)], key=f"{ref}-{i}", case_ref=ref)
        for i, (t, d) in enumerate(
            [
                ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "skola",
                                      "barn": {"personnummer": pnr, "kon": "flicka"}}),
                ("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
                ("forhandsbedomning_beslutad", {"anmalan_id": "a1",
                                                "beslut": "inleda_utredning"}),
                ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan"}),
                ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
            ]
        )
    ]  # fmt: skip
    history.append(_beslut(ref, "SoL 11:1", f"{ref}-b", at=at))
    history.append(
        line("beslut_avslutat", {"beslut_id": "b1", "orsak": "tackat_nej"}, at=at, key=f"{ref}-e",
             case_ref=ref)
    )  # fmt: skip
    history.append(
        line("arende_avslutat", {"orsak": "insats_avslutad"}, at=at, key=f"{ref}-z", case_ref=ref)
    )
    body = b"".join(orjson.dumps(x) + b"\n" for x in history)
    r = await http.post(
        "/import",
        content=body,
        headers={**token("system"), "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["appended"] == len(history)
    [flag] = answer["flagged"]
    assert (flag["line"], flag["case_ref"], flag["rule"]) == (6, ref, "P-LAGRUM")
    assert "SoL 2001:453 4 kap. 1 §" in flag["sv"] and "2025-05-20" in flag["en"]
    stored = api_store.case_events(case_id_for("1280", ref))
    assert [e.type for e in stored][5] == "beslut_fattat"
    assert stored[5].data["lagrum"] == "SoL 11:1"  # recorded as it was taken
