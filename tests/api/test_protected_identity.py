"""Skyddade personuppgifter over HTTP (real Temporal and PostgreSQL; docs/security.md "Protected
identities"): once a child is marked, its case is refused to an operator and to roles the kommun
has not named (403 problem+json in Swedish and English), masked in reports with counts unchanged,
left out of the feed's data, the export and webhooks without permission; a named role reads it,
and that read is logged with its purpose."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import orjson

from domain.protection import MARKER
from tests.api.cases import lifecycle
from tests.api.conftest import CONFIGURED_KOMMUN, Token, new_pnr, new_ref
from tests.api.test_webhooks import receiving
from tests.factories import earlier_today, line
from tests.helpers import eventually

PROTECTED = "protected-identity"


def _mark(ref: str, n: int, kommun: str = "1280") -> dict[str, Any]:
    [at] = earlier_today(1, within=timedelta(seconds=1))
    data = {"skydd": "skyddad_folkbokforing"}
    return line("skydd_markerat", data, at=at, key=f"{ref}-skydd-{n}", case_ref=ref, kommun=kommun)


async def _open(http: httpx.AsyncClient, token: Token, ref: str) -> int:
    """Anmälan (enhet barn-vast) and skyddsbedömning: an open case with an open A2 frist."""
    pos = 0
    for step in lifecycle(ref, new_pnr())[:2]:
        r = await http.post("/commands", json=step, headers=token("handlaggare"))
        assert r.status_code == 201, r.text
        pos = int(r.json()["position"])
    return pos


def _mine(report: dict[str, Any], ref: str) -> list[dict[str, Any]]:
    return [row for row in report["rows"] if row["case_ref"] == ref]


async def test_a_protected_childs_case_reaches_only_the_named_roles(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref, other = new_ref(), new_ref()
    await _open(http, token, other)
    pos = await _open(http, token, ref)
    before = await http.get("/reports/frister", params={"min_position": pos}, headers=token())
    rows_before = len(before.json()["rows"])
    mine_before = _mine(before.json(), ref)
    # other tests of the session may have protected cases of their own in this kommun
    masked_before = [r for r in before.json()["rows"] if r["case_ref"] == MARKER]
    assert mine_before and {r["enhet"] for r in mine_before} == {"barn-vast"}

    marked = await http.post("/commands", json=_mark(ref, 1), headers=token("handlaggare"))
    assert marked.status_code == 201, marked.text
    pos = int(marked.json()["position"])

    # refused to an operator and to a handläggare the kommun has not named: sv and en text
    for role in ("operator", "handlaggare", "auditor"):
        refused = await http.get(f"/cases/1280/{ref}/timeline", headers=token(role))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["type"].endswith(PROTECTED)
        assert "skyddade personuppgifter" in problem["sv"]
        assert "protected personal data" in problem["en"]
    for path in ("frister", "evb", "registerutdrag"):
        r = await http.get(f"/cases/1280/{ref}/{path}", headers=token("handlaggare"))
        assert r.status_code == 403 and r.json()["type"].endswith(PROTECTED), (path, r.text)
    # the operator's summary still answers (stage, frister), without where it is handled
    state = await http.get(f"/cases/1280/{ref}", headers=token("operator"))
    assert state.status_code == 200 and state.json()["enhet"] == MARKER
    # another case of the same kommun is untouched
    assert (
        await http.get(f"/cases/1280/{other}/timeline", headers=token("handlaggare"))
    ).is_success

    # the named role reads it, and the read is logged with its purpose, marked
    named = token("handlaggare_skydd", subject="hs-1")
    named["X-Barnflow-Purpose"] = "utredning B1"
    timeline = await http.get(f"/cases/1280/{ref}/timeline", headers=named)
    assert timeline.status_code == 200, timeline.text
    assert [e["type"] for e in timeline.json()["events"]][-1] == "skydd_markerat"
    reads = {(r["who"], r["role"], r["purpose"]) for r in timeline.json()["reads"]}
    assert ("hs-1", "handlaggare_skydd", "utredning B1 [skyddade personuppgifter]") in reads

    # reports: the rows stay (counts unchanged), the case_ref and enhet read the marker
    after = await http.get("/reports/frister", params={"min_position": pos}, headers=token())
    assert after.status_code == 200, after.text
    assert _mine(after.json(), ref) == []
    assert len(after.json()["rows"]) == rows_before
    masked = [r for r in after.json()["rows"] if r["case_ref"] == MARKER]
    assert len(masked) == len(masked_before) + len(mine_before)
    assert {r["enhet"] for r in masked} == {MARKER}
    assert _mine(after.json(), other)  # the other case is listed as before

    # the feed gives a role not named the protected case's events without data
    feed = await http.get("/events", params={"after": pos - 1}, headers=token("handlaggare"))
    [ev] = [e for e in feed.json()["events"] if e["position"] == pos]
    assert ev["data"] is None and ev["actor"] is None
    feed = await http.get("/events", params={"after": pos - 1}, headers=named)
    [ev] = [e for e in feed.json()["events"] if e["position"] == pos]
    assert ev["data"] == {"skydd": "skyddad_folkbokforing"}

    # the export: refused for the one case, left out of the kommun's
    one = await http.get("/export", params={"kommun": "1280", "case_ref": ref}, headers=token())
    assert one.status_code == 403 and one.json()["type"].endswith(PROTECTED)
    everything = await http.get("/export", params={"kommun": "1280"}, headers=token())
    refs = {orjson.loads(x)["case_ref"] for x in everything.content.splitlines() if x}
    assert other in refs and ref not in refs
    ok = await http.get("/export", params={"kommun": "1280", "case_ref": ref}, headers=named)
    assert ok.status_code == 200 and len(ok.content.splitlines()) == 3


async def test_a_webhook_without_permission_receives_nothing_of_a_protected_case(
    http: httpx.AsyncClient, token: Token
) -> None:
    """Kommun 0136 names its calling system (``system``) for protected cases; 1280 does not."""
    # not the anmälan: stored before the marking, it may be delivered before the case is marked
    types = ["skyddsbedomning_gjord", "skydd_markerat"]
    hdr = token("system", kommun=CONFIGURED_KOMMUN)
    ref, plain = new_ref(), new_ref()
    with receiving(failures=0) as (state, url), receiving(failures=0) as (allowed, url2):
        asked = {"url": url2, "event_types": types, "skyddade": True}
        refused = await http.post("/webhooks", json=asked, headers=token("system"))
        assert refused.status_code == 403 and refused.json()["type"].endswith(PROTECTED)
        sub = await http.post("/webhooks", json={"url": url, "event_types": types}, headers=hdr)
        assert sub.status_code == 201 and sub.json()["skyddade"] is False, sub.text
        permitted = await http.post("/webhooks", json=asked, headers=hdr)
        assert permitted.status_code == 201 and permitted.json()["skyddade"] is True

        # the child is marked between its first two steps; another child is not marked
        first, second = ({**s, "kommun": CONFIGURED_KOMMUN} for s in lifecycle(ref, new_pnr())[:2])
        for step in (first, _mark(ref, 1, CONFIGURED_KOMMUN), second):
            r = await http.post("/commands", json=step, headers=hdr)
            assert r.status_code == 201, r.text
        for step in lifecycle(plain, new_pnr())[:2]:
            r = await http.post(
                "/commands", json={**step, "kommun": CONFIGURED_KOMMUN}, headers=hdr
            )
            assert r.status_code == 201, r.text

        def refs(receiver: Any) -> list[str]:
            with receiver.lock:
                # a CloudEvents delivery (the default format) names the case as its subject
                return [orjson.loads(b)["subject"] for _, b in receiver.accepted]

        await eventually(lambda: refs(state).count(plain) == 1, timeout=30)
        await eventually(lambda: refs(allowed).count(ref) == 2, timeout=30)
        await asyncio.sleep(1.0)  # a delivery of ``ref`` polled with ``plain`` has arrived too
        assert ref not in refs(state)
    for s in (sub, permitted):
        gone = await http.delete(f"/webhooks/{s.json()['id']}", headers=hdr)
        assert gone.status_code == 204
