"""An alert withdrawn by a late fulfilment (issue #12), as an integrator and a reader see it: the
event feed and a webhook deliver both the alert and its ``larm_aterkallat``, the case's frister
and the frister report count the frist as met, the timeline shows both. The API stack's settle
window is two seconds (tests/api/conftest.py)."""

from __future__ import annotations

import asyncio
import time as clock
from datetime import date, datetime, time
from typing import Any

import httpx
import orjson

from domain.calendar import STOCKHOLM, add_days
from infra.config.clock import today_stockholm
from tests.api.conftest import Token, new_pnr, new_ref
from tests.api.test_webhooks import receiving
from tests.factories import line
from tests.helpers import eventually

TYPES = ["frist_overskriden", "larm_aterkallat"]
ALERT_TYPES = {*TYPES, "evb_rapporteringsskyldighet_uppstod"}


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


async def _alerts_in_feed(
    http: httpx.AsyncClient, token: Token, after: int, ref: str, n: int
) -> list[dict[str, Any]]:
    """The case's alerts and withdrawals in the feed once there are ``n`` (30 s at most)."""
    deadline = clock.monotonic() + 30
    while clock.monotonic() < deadline:
        got = [e for e in await _feed(http, token, after, ref) if e["type"] in ALERT_TYPES]
        if len(got) >= n:
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(f"fewer than {n} of {ALERT_TYPES} for {ref} in the feed")


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=STOCKHOLM)


async def test_withdrawn_alert_reaches_feed_and_webhook_and_the_frist_counts_as_met(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref, pnr = new_ref(), new_pnr()
    received = add_days(today_stockholm(), -4)
    at = datetime.combine(received, time(12), tzinfo=STOCKHOLM)
    with receiving(failures=0) as (state, url):
        sub = await http.post(
            "/webhooks",
            json={"url": url, "event_types": TYPES, "format": "barnflow-v1"},
            headers=token("system"),
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

        async def poll(n: int) -> list[dict[str, Any]]:
            return await _alerts_in_feed(http, token, start, ref, n)

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


async def test_withdrawn_evb_alert_makes_nothing_reportable_to_ivo(
    http: httpx.AsyncClient, token: Token
) -> None:
    """A gynnande beslut 100 days old is backfilled, its EVB alert (C2) raised after the window;
    then its verkställighet, dated within the three months, arrives: the alert is withdrawn, the
    case's EVB view shows both and C2 met, and no IVO quarter lists the beslut."""
    ref, pnr = new_ref(), new_pnr()
    today = today_stockholm()
    decided = add_days(today, -100)
    beslut = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "oppenvard",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
    }
    barn = {"personnummer": pnr, "kon": "pojke"}
    steps = [
        (
            "anmalan_mottagen",
            {"anmalan_id": "anm-1", "barn": barn, "anmalare_kategori": "skola"},
            -10,
        ),
        ("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}, -10),
        ("forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}, -5),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}, -5),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}, 0),
        ("beslut_fattat", beslut, 0),
    ]
    start = None
    for n, (etype, data, offset) in enumerate(steps):
        ev = line(etype, data, at=_noon(add_days(decided, offset)), key=f"{ref}-{n}", case_ref=ref)
        r = await http.post("/commands", json=ev, headers=token("system"))
        assert r.status_code == 201, r.text
        start = start if start is not None else int(r.json()["position"]) - 1
    assert start is not None
    [alert] = await _alerts_in_feed(http, token, start, ref, 1)
    assert (alert["type"], alert["data"]["beslut_id"]) == (
        "evb_rapporteringsskyldighet_uppstod",
        "b1",
    )
    done = add_days(today, -20)
    verkst = line(
        "insats_verkstalld", {"beslut_id": "b1"}, at=_noon(done), key=f"{ref}-v", case_ref=ref
    )
    r = await http.post("/commands", json=verkst, headers=token("system"))
    assert r.status_code == 201, r.text
    _, withdrawn = await _alerts_in_feed(http, token, start, ref, 2)
    assert withdrawn["type"] == "larm_aterkallat"
    assert (withdrawn["data"]["larm_typ"], withdrawn["data"]["regel"]) == (alert["type"], "C2")
    assert withdrawn["data"]["uppfylld_position"] == r.json()["position"]

    pos = {"min_position": withdrawn["position"]}
    evb = await http.get(f"/cases/1280/{ref}/evb", params=pos, headers=token())
    assert evb.status_code == 200, evb.text
    assert [f["status"] for f in evb.json()["frister"] if f["rule"] == "C2"] == ["met"]
    shown = [e["type"] for e in evb.json()["events"]]
    assert shown[-3:] == [alert["type"], "insats_verkstalld", "larm_aterkallat"]
    for day in (decided, today):
        quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
        report = await http.get(
            "/reports/evb", params={**pos, "quarter": quarter}, headers=token("auditor")
        )
        assert report.status_code == 200, report.text
        assert ref not in {row["case_ref"] for row in report.json()["rows"]}, quarter
