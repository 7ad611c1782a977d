"""An alert withdrawn by a late fulfilment (issue #12), as an integrator and a reader see it: the
event feed and a webhook deliver both the alert and its ``larm_aterkallat``, the case's frister
and the frister report count the frist as met, the timeline shows both. The API stack's settle
window is two seconds (tests/api/conftest.py)."""

from __future__ import annotations

import asyncio
import time as clock
from datetime import datetime, time
from typing import Any

import httpx
import orjson

from domain.calendar import STOCKHOLM, add_days
from infra.store import today_stockholm
from tests.api.conftest import Token, new_pnr, new_ref
from tests.api.test_webhooks import receiving
from tests.factories import line
from tests.helpers import eventually

TYPES = ["frist_overskriden", "larm_aterkallat"]


async def _feed(
    http: httpx.AsyncClient, token: Token, after: int, ref: str
) -> list[dict[str, Any]]:
    """Every event of case ``ref`` in the feed after ``after``, paging to the head."""
    out: list[dict[str, Any]] = []
    while True:
        r = await http.get("/events", params={"after": after, "limit": 1000}, headers=token())
        assert r.status_code == 200, r.text
        body = r.json()
        out += [e for e in body["events"] if e["case_ref"] == ref]
        if body["last_position"] <= after:
            return out
        after = body["last_position"]


async def test_withdrawn_alert_reaches_feed_and_webhook_and_the_frist_counts_as_met(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref, pnr = new_ref(), new_pnr()
    received = add_days(today_stockholm(), -4)
    at = datetime.combine(received, time(12), tzinfo=STOCKHOLM)
    with receiving(failures=0) as (state, url):
        sub = await http.post(
            "/webhooks", json={"url": url, "event_types": TYPES}, headers=token("system")
        )
        assert sub.status_code == 201, sub.text
        barn = {"personnummer": pnr, "kon": "flicka"}
        anm = line(
            "anmalan_mottagen",
            {"anmalan_id": "anm-1", "barn": barn, "anmalare_kategori": "skola"},
            at=at,
            key=f"{ref}-1",
            case_ref=ref,
        )
        r = await http.post("/commands", json=anm, headers=token("system"))
        assert r.status_code == 201, r.text
        start = int(r.json()["position"]) - 1

        async def alerted() -> list[dict[str, Any]]:
            return [e for e in await _feed(http, token, start, ref) if e["type"] in TYPES]

        async def poll(n: int) -> list[dict[str, Any]]:
            deadline = clock.monotonic() + 30
            while clock.monotonic() < deadline:
                got = await alerted()
                if len(got) >= n:
                    return got
                await asyncio.sleep(0.2)
            raise AssertionError(f"fewer than {n} of {TYPES} for {ref} in the feed")

        [alert] = await poll(1)  # no skyddsbedömning yet: after the window, A1 is alerted
        assert (alert["type"], alert["data"]["regel"]) == ("frist_overskriden", "A1")
        skydd = line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=at,  # made the day the anmälan came in, registered four days later
            key=f"{ref}-2",
            case_ref=ref,
        )
        r = await http.post("/commands", json=skydd, headers=token("system"))
        assert r.status_code == 201, r.text
        fulfilled = int(r.json()["position"])
        alert_again, withdrawn = await poll(2)
        assert alert_again == alert
        assert withdrawn["type"] == "larm_aterkallat"
        assert withdrawn["data"] == {
            "larm_typ": "frist_overskriden",
            "frist": "A1:anm-1",
            "regel": "A1",
            "due": received.isoformat(),
            "larm_position": alert["position"],
            "uppfylld_position": fulfilled,
            "uppfylld_datum": received.isoformat(),
        }

        def delivered() -> list[tuple[str, int]]:
            with state.lock:
                got = sorted(
                    {
                        (p["event"]["type"], p["position"])
                        for p in (orjson.loads(b) for _, b in state.accepted)
                        if p["event"]["case_ref"] == ref
                    },
                    key=lambda t: t[1],
                )
            return got if len(got) >= 2 else []

        assert await eventually(delivered, timeout=30) == [
            ("frist_overskriden", alert["position"]),
            ("larm_aterkallat", withdrawn["position"]),
        ]
        await http.delete(f"/webhooks/{sub.json()['id']}", headers=token("system"))

    pos = {"min_position": withdrawn["position"]}
    frister = await http.get(f"/cases/1280/{ref}/frister", params=pos, headers=token())
    assert frister.status_code == 200, frister.text
    [a1] = [f for f in frister.json()["frister"] if f["rule"] == "A1"]
    assert (a1["status"], a1["fulfilled_date"]) == ("met", received.isoformat())
    report = await http.get("/reports/frister", params=pos, headers=token())
    assert report.status_code == 200, report.text
    rows = [(row["rule"], row["status"]) for row in report.json()["rows"] if row["case_ref"] == ref]
    assert ("A1", "overdue") not in rows and all(rule != "A1" for rule, _ in rows)
    timeline = await http.get(f"/cases/1280/{ref}/timeline", params=pos, headers=token())
    assert timeline.status_code == 200, timeline.text
    assert [e["type"] for e in timeline.json()["events"]] == [
        "anmalan_mottagen",
        "frist_overskriden",
        "skyddsbedomning_gjord",
        "larm_aterkallat",
    ]
