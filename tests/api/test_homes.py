"""Issue 15, part A, done-when (a) and (b) over HTTP: a familjehem placement in a home without a
completed utredning and a valid registerkontroll is refused with the rule (409 problem+json, HEM4
then HEM5); the same placement after the home's utredning and registerkontroll is accepted, the
home lists the child (by case_ref), and two years after the registerkontroll the home raises HEM7.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx

from domain.calendar import add_months
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line, stockholm_today

KOMMUN = "1280"


def _home(hem_id: str, etype: str, data: dict[str, Any], at: Any, key: str) -> dict[str, Any]:
    body = line(etype, data, at=at, key=key, kommun=KOMMUN)
    body.pop("case_ref")
    return {**body, "hem_id": hem_id}


def _case_until_placement(ref: str, hem_id: str, moments: list[Any]) -> list[dict[str, Any]]:
    steps = [
        ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "skola",
                              "barn": {"personnummer": new_pnr(), "kon": "flicka"}}),
        ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ("beslut_fattat", {"beslut_id": "b1", "lagrum": "SoL 11:1", "beslutstyp": "insats",
                           "insats": "familjehem", "gynnande": True, "belopp_per_dygn": 900,
                           "delegat": {"id": "d1", "roll": "utskott"}}),
    ]  # fmt: skip
    return [
        line(t, d, at=moments[i], key=f"{ref}-{i}", case_ref=ref, kommun=KOMMUN)
        for i, (t, d) in enumerate(steps)
    ]


async def test_a_familjehem_placement_needs_the_homes_utredning_and_registerkontroll(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref, hem_id = new_ref(), f"FH-{secrets.token_hex(4)}"
    moments = earlier_today(12)
    headers = token("handlaggare", kommun=KOMMUN)
    registered = await http.post(
        "/homes/commands",
        json=_home(hem_id, "hem_registrerat", {"hemtyp": "familjehem"}, moments[0], f"{hem_id}-r"),
        headers=headers,
    )
    assert registered.status_code == 201, registered.text
    for step in _case_until_placement(ref, hem_id, moments[1:6]):
        r = await http.post("/commands", json=step, headers=headers)
        assert r.status_code == 201, r.text
    placement = line(
        "insats_verkstalld",
        {"beslut_id": "b1", "hem_id": hem_id},
        at=moments[9],
        key=f"{ref}-v",
        case_ref=ref,
        kommun=KOMMUN,
    )

    refused = await http.post("/commands", json=placement, headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["rule"] == "HEM4"
    assert "22 kap. 2 och 4 §§" in refused.json()["sv"]

    utredning = _home(
        hem_id,
        "familjehemsutredning_avslutad",
        {"utredning_id": "fu1", "utfall": "godkand"},
        moments[6],
        f"{hem_id}-u",
    )
    assert (await http.post("/homes/commands", json=utredning, headers=headers)).status_code == 201
    still = await http.post("/commands", json=placement, headers=headers)
    assert still.status_code == 409, still.text
    assert still.json()["rule"] == "HEM5"

    for i, register in enumerate(
        ("belastningsregistret", "misstankeregistret", "socialtjanstens_register")
    ):
        body = _home(
            hem_id, "registerkontroll_gjord", {"register": register}, moments[7], f"{hem_id}-k{i}"
        )
        assert (await http.post("/homes/commands", json=body, headers=headers)).status_code == 201

    accepted = await http.post("/commands", json=placement, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["event"]["data"]["hem_id"] == hem_id

    today = stockholm_today()
    now = await http.get(f"/homes/{KOMMUN}/{hem_id}", headers=headers)
    assert now.status_code == 200, now.text
    home = now.json()["homes"][0]
    assert [p["case_ref"] for p in home["placerade"]] == [ref]
    assert home["godkand"] is True
    assert home["larm"] == []

    # (b) the registerkontroll of today is valid for two years: the day before that, no alert;
    # on the day, HEM7 for the home with the placed child
    expires = add_months(today, 24)
    before = await http.get(
        f"/homes/{KOMMUN}/{hem_id}",
        params={"as_of": (expires - timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert before.json()["larm"] == []
    after = await http.get(
        f"/homes/{KOMMUN}/{hem_id}", params={"as_of": expires.isoformat()}, headers=headers
    )
    assert after.json()["larm"] == [
        {
            "rule": "HEM7",
            "hem_id": hem_id,
            "due": expires.isoformat(),
            "case_refs": [ref],
            "law": "SoF 2025:468 3 kap. 3 §; POL-HEM-REGISTER",
        }
    ]


async def test_a_home_line_is_validated_and_judged(http: httpx.AsyncClient, token: Token) -> None:
    hem_id = f"JH-{secrets.token_hex(4)}"
    headers = token("handlaggare", kommun=KOMMUN)
    (at,) = earlier_today(1)
    bad = _home(hem_id, "hem_registrerat", {"hemtyp": "villa"}, at, f"{hem_id}-bad")
    r = await http.post("/homes/commands", json=bad, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "data.hemtyp", r.text
    first = _home(hem_id, "registerkontroll_gjord", {"register": "misstankeregistret"}, at, "x")
    r = await http.post("/homes/commands", json=first, headers=headers)
    assert r.status_code == 409 and r.json()["rule"] == "HEM-OPEN", r.text
    other = await http.post(
        "/homes/commands",
        json={**_home(hem_id, "hem_registrerat", {"hemtyp": "jourhem"}, at, "y"), "kommun": "0180"},
        headers=headers,
    )
    assert other.status_code == 403, other.text
