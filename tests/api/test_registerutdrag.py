"""The verksamhetssystem's registerutdrag over HTTP (real Temporal and PostgreSQL): every event
of the person's case and every read, the production itself logged, operators refused."""

from __future__ import annotations

import httpx

from infra.persistence.store import CaseStore
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref


async def test_registerutdrag_over_http(
    http: httpx.AsyncClient, token: Token, api_store: CaseStore
) -> None:
    ref, person = new_ref(), new_pnr()
    steps = lifecycle(ref, person)
    for step in steps:
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
    hdr = token("arbetsledare")
    assert (await http.get(f"/cases/1280/{ref}/frister", headers=hdr)).status_code == 200

    got = await http.get(f"/cases/1280/{ref}/registerutdrag", headers=token("auditor"))
    assert got.status_code == 200, got.text
    doc = got.json()
    [case] = doc["cases"]
    assert [e["type"] for e in case["events"]] == [s["type"] for s in steps]
    assert case["events"][0]["data"]["barn"]["personnummer"] == person
    assert [r["purpose"] for r in case["reads"]] == ["test", "registerutdrag: test"]

    page = await http.get(
        f"/cases/1280/{ref}/registerutdrag", params={"format": "html"}, headers=token("auditor")
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Registerutdrag" in page.text

    refused = await http.get(f"/cases/1280/{ref}/registerutdrag", headers=token("operator"))
    assert refused.status_code == 403, refused.text
    missing = await http.get("/cases/1280/NO-SUCH-REF/registerutdrag", headers=token("auditor"))
    assert missing.status_code == 404
