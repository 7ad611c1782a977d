"""Socialstyrelsen's yearly return over HTTP (issue #17 item 1): ``GET /reports/arsstatistik?year=``
lists the year's records by case_ref (never a personnummer) and the validator's findings; a year
without a rule set is a 422 problem naming the years there are. The cases are dated in 2026 (the
years with rule sets), so the test means the same under any test clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from domain.calendar import STOCKHOLM
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import line


def _steps(pnr: str, lagrum: str, insats: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("ansokan_mottagen", {"ansokan_id": "s1", "sokande": "vardnadshavare",
                              "barn": {"personnummer": pnr, "kon": "pojke"}}),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "ansokan", "ansokan_id": "s1"}),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ("beslut_fattat", {"beslut_id": "b1", "lagrum": lagrum, "beslutstyp": "insats",
                           "insats": insats, "gynnande": True, "utredning_id": "u1",
                           "delegat": {"id": "d1", "roll": "utskott"}}),
        ("insats_verkstalld", {"beslut_id": "b1"}),
    ]  # fmt: skip


async def _record(http: httpx.AsyncClient, token: Token, steps: list[Any]) -> tuple[str, int]:
    ref = new_ref()
    position = 0
    for i, (etype, data) in enumerate(steps):
        at = datetime(2026, 3, 2 + i, 10, 0, tzinfo=STOCKHOLM)
        step = line(etype, data, at=at, key=f"{ref}-{i}", case_ref=ref, kommun="1280")
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
        position = int(r.json()["position"])
    return ref, position


async def test_the_years_records_and_the_validators_findings_by_case_ref(
    http: httpx.AsyncClient, token: Token
) -> None:
    pnr = new_pnr()
    clean, _ = await _record(http, token, _steps(pnr, "SoL 11 kap. 1 §", "hvb"))
    # an LVU placement decision with no omhändertagande nor dom behind it (planted)
    planted, position = await _record(http, token, _steps(new_pnr(), "LVU 11 §", "familjehem"))

    r = await http.get(
        "/reports/arsstatistik",
        params={"year": "2026", "min_position": position},
        headers=token("auditor"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["label"] == "2026"
    assert pnr not in r.text
    mine = [x for x in body["rows"] if x["case_ref"] == clean]
    assert [(x["post"], x["insatstyp"], x["lagrum_form"], x["placeringsform"]) for x in mine] == [
        ("beslut:b1", "hvb", "SoL", "hvb")
    ]
    assert mine[0]["beslutsdatum"] == "2026-03-05" and mine[0]["start"] == "2026-03-06"
    assert mine[0]["fel"] == 0
    found = [(f["kod"], f["post"]) for f in body["fel"] if f["case_ref"] == planted]
    assert found == [("LVU_UTAN_BESLUT", "beslut:b1")]
    assert body["summa"]["klar_for_inlamning"] is False
    assert "vistelsekommun" in body["columns"]

    csv = await http.get(
        "/reports/arsstatistik", params={"year": "2026", "format": "csv"}, headers=token("auditor")
    )
    assert csv.status_code == 200
    assert csv.text.splitlines()[0].endswith(",fel,vistelsekommun")

    old = await http.get("/reports/arsstatistik", params={"year": "2024"}, headers=token("auditor"))
    assert old.status_code == 422
    assert old.headers["content-type"].startswith("application/problem+json")
    assert "no rule set for reporting year 2024 (rule sets: 2025, 2026)" in old.json()["detail"]
