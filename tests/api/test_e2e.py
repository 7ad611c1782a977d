"""A whole case over HTTP against real Temporal and PostgreSQL: commands, reads, feed, export."""

from __future__ import annotations

import httpx
import orjson

from infra.persistence.store import CaseStore
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref


async def test_case_from_anmalan_to_avslut_over_http(
    http: httpx.AsyncClient, token: Token, api_store: CaseStore
) -> None:
    ref = new_ref()
    steps = lifecycle(ref, new_pnr())
    positions = []
    for step in steps:
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["event"]["type"] == step["type"]
        positions.append(body["position"])
    assert positions == sorted(positions)

    # the same command again: the original result, not a second event
    again = await http.post("/commands", json=steps[2], headers=token("handlaggare"))
    assert again.status_code == 200
    assert again.json()["position"] == positions[2]

    hdr = token("arbetsledare")
    state = await http.get(
        f"/cases/1280/{ref}", params={"min_position": positions[-1]}, headers=hdr
    )
    assert state.status_code == 200, state.text
    assert state.json()["closed"] is True
    assert state.json()["event_count"] == len(steps)

    frister = (await http.get(f"/cases/1280/{ref}/frister", headers=hdr)).json()["frister"]
    by_rule = {f["rule"]: f for f in frister}
    assert by_rule["A2"]["status"] == "met"  # förhandsbedömning decided the same day

    evb = (await http.get(f"/cases/1280/{ref}/evb", headers=hdr)).json()
    assert [e["type"] for e in evb["events"]] == [
        "beslut_fattat",
        "insats_verkstalld",
        "beslut_avslutat",
    ]
    assert all(f["status"] == "met" for f in evb["frister"])

    timeline = (await http.get(f"/cases/1280/{ref}/timeline", headers=token("auditor"))).json()
    assert [e["type"] for e in timeline["events"]] == [s["type"] for s in steps]
    assert all(e["recorded_at"] for e in timeline["events"])
    readers = {(r["who"], r["purpose"]) for r in timeline["reads"]}
    assert ("arbetsledare-1", "test") in readers  # the frister read above was logged

    exported = await http.get(
        "/export", params={"kommun": "1280", "case_ref": ref}, headers=token("auditor")
    )
    lines = [orjson.loads(x) for x in exported.content.splitlines()]
    assert [x["position"] for x in lines] == positions
    assert all(x.get("digest") for x in lines)


async def test_operator_sees_state_but_no_content(http: httpx.AsyncClient, token: Token) -> None:
    ref = new_ref()
    first = lifecycle(ref, new_pnr())[0]
    created = await http.post("/commands", json=first, headers=token("system"))
    assert created.status_code == 201, created.text
    pos = created.json()["position"]
    op = token("operator")
    state = await http.get(f"/cases/1280/{ref}", headers=op)
    assert state.status_code == 200
    assert state.json()["stage"]
    assert (await http.get(f"/cases/1280/{ref}/timeline", headers=op)).status_code == 403
    feed = await http.get("/events", params={"after": pos - 1, "limit": 1}, headers=op)
    [ev] = feed.json()["events"]
    assert ev["type"] == "anmalan_mottagen" and ev["data"] is None and ev["actor"] is None
    assert first["data"]["barn"]["personnummer"] not in feed.text


async def test_feed_is_gap_free_and_scoped_to_kommun_and_unit(
    http: httpx.AsyncClient, token: Token
) -> None:
    mine, other = new_ref(), new_ref()
    a = lifecycle(mine, new_pnr(), enhet="barn-ost")[0]
    b = lifecycle(other, new_pnr(), enhet="barn-norr")[0]
    pa = (await http.post("/commands", json=a, headers=token())).json()["position"]
    pb = (await http.post("/commands", json=b, headers=token())).json()["position"]
    start = min(pa, pb) - 1
    unit = token("handlaggare", units=("barn-ost",))
    page = (await http.get("/events", params={"after": start, "limit": 50}, headers=unit)).json()
    refs = {e["case_ref"] for e in page["events"]}
    assert mine in refs and other not in refs
    assert page["last_position"] >= max(pa, pb)
    malmo = await http.get("/events", params={"after": start}, headers=token(kommun="0127"))
    assert all(e["kommun"] == "0127" for e in malmo.json()["events"])
    # a bookmark beyond the head is a wrong bookmark, answered as such (not an empty page)
    head = page["head"]
    beyond = await http.get("/events", params={"after": head + 10**6, "wait": 0.3}, headers=unit)
    assert beyond.status_code == 422 and beyond.json()["field"] == "after"
    assert "after" in beyond.json()["sv"] and "newest stored position" in beyond.json()["en"]
    # long-poll at the head: the call returns after the wait, never behind the bookmark
    idle = await http.get("/events", params={"after": head, "wait": 0.3}, headers=unit)
    assert idle.status_code == 200 and idle.json()["last_position"] >= head
