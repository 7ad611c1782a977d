"""A kommun with its own configuration (issue 13, item 4): klagomål answered within 7 days (the
default is 14), a verkställighet target of 3 days for öppenvård and a delegationsordning. What it
configured shows in the workflow's alert, the case's answers, the views' frister report and the
verkställighetstider report, each naming the configuration version; the workflow's history
carries that version id, never the delegationsordning (tests/api/conftest.py, ``CONFIGURED``)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time
from typing import Any

import httpx

from domain.calendar import STOCKHOLM, add_days
from domain.identity import pseudonym
from domain.ids import workflow_id_for
from infra.api.services import Services
from infra.config.clock import today_stockholm
from tests.api.conftest import CONFIGURED, CONFIGURED_KOMMUN, Token, new_pnr, new_ref
from tests.conftest import PSEUDONYM_KEY
from tests.factories import line

K = CONFIGURED_KOMMUN


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=STOCKHOLM)


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


async def _send(
    http: httpx.AsyncClient, token: Token, ev: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    r = await http.post("/commands", json=ev, headers=token("system", kommun=K))
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_kommuns_own_klagomal_days_and_target_show_everywhere(
    http: httpx.AsyncClient, token: Token, services: Services
) -> None:
    ref, pnr = new_ref(), new_pnr()
    today = today_stockholm()
    opened, received, decided, done = (add_days(today, -n) for n in (10, 8, 9, 5))

    def ev(etype: str, data: dict[str, Any], day: date, n: int) -> dict[str, Any]:
        return line(etype, data, at=_noon(day), key=f"{ref}-{n}", kommun=K, case_ref=ref)

    barn = {"personnummer": pnr, "kon": "pojke"}
    await _send(
        http,
        token,
        ev(
            "anmalan_mottagen",
            {"anmalan_id": "a", "barn": barn, "anmalare_kategori": "skola"},
            opened,
            1,
        ),
    )
    await _send(
        http,
        token,
        ev("skyddsbedomning_gjord", {"anmalan_id": "a", "omedelbart_skydd": False}, opened, 2),
    )
    await _send(
        http,
        token,
        ev(
            "forhandsbedomning_beslutad",
            {"anmalan_id": "a", "beslut": "inleda_utredning"},
            opened,
            3,
        ),
    )
    await _send(
        http,
        token,
        ev(
            "utredning_inledd",
            {"utredning_id": "u", "grund": "anmalan", "anmalan_id": "a"},
            opened,
            4,
        ),
    )
    await _send(http, token, ev("klagomal_mottaget", {"klagomal_id": "k"}, received, 5))
    await _send(
        http, token, ev("utredning_avslutad", {"utredning_id": "u", "utfall": "insats"}, decided, 6)
    )
    beslut = {
        "beslut_id": "b",
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "oppenvard",
        "gynnande": True,
        "delegat": {"id": "d", "roll": "socialsekreterare"},
    }
    # the kommun's delegationsordning, by reference: a socialsekreterare may not decide this
    refused = await _send(http, token, ev("beslut_fattat", beslut, decided, 7), status=409)
    assert refused["rule"] == "DELEG"
    await _send(
        http,
        token,
        ev("beslut_fattat", {**beslut, "delegat": {"id": "d", "roll": "sektionschef"}}, decided, 8),
    )
    verkstalld = await _send(http, token, ev("insats_verkstalld", {"beslut_id": "b"}, done, 9))
    k1_due = add_days(received, 7)  # not received + 14

    # the workflow's alert: K1 was due after 7 days, so it is overdue and alerted (settle: 2 s)
    feed_after = int(verkstalld["position"])

    async def k1_alert() -> dict[str, Any] | None:
        r = await http.get("/events", params={"after": 0, "limit": 1000}, headers=token(kommun=K))
        assert r.status_code == 200, r.text
        found = [
            e
            for e in r.json()["events"]
            if e["case_ref"] == ref
            and e["type"] == "frist_overskriden"
            and e["data"]["regel"] == "K1"
        ]
        return found[0] if found else None

    alert = None
    for _ in range(300):  # 30 s at most
        if (alert := await k1_alert()) is not None:
            break
        await asyncio.sleep(0.1)
    assert alert is not None, "no K1 alert"
    assert alert["data"]["due"] == k1_due.isoformat()
    pos = {"min_position": max(int(alert["position"]), feed_after)}

    # the API's answers compute with the kommun's policy and name its version
    r = await http.get(f"/cases/{K}/{ref}/frister", params=pos, headers=token(kommun=K))
    assert r.status_code == 200, r.text
    [k1] = [f for f in r.json()["frister"] if f["rule"] == "K1"]
    assert (k1["due"], k1["status"]) == (k1_due.isoformat(), "overdue")
    assert r.json()["kommun_config"] == CONFIGURED.version
    state = await http.get(f"/cases/{K}/{ref}", params=pos, headers=token(kommun=K))
    assert "K1:k" in state.json()["overdue_frister"]
    assert state.json()["kommun_config"] == CONFIGURED.version

    # the views and the reports read from them: the same due date, the kommun's target
    report = await http.get("/reports/frister", params=pos, headers=token(kommun=K))
    assert report.status_code == 200, report.text
    rows = [row for row in report.json()["rows"] if row["case_ref"] == ref and row["rule"] == "K1"]
    assert [row["due"] for row in rows] == [k1_due.isoformat()]
    assert report.json()["kommun_config"] == CONFIGURED.version
    verk = await http.get(
        "/reports/verkstallighetstider",
        params={**pos, "quarter": _quarter(done)},
        headers=token(kommun=K),
    )
    assert verk.status_code == 200, verk.text
    [oppenvard] = [row for row in verk.json()["rows"] if row["insatstyp"] == "oppenvard"]
    assert (oppenvard["mal_dagar"], oppenvard["andel_inom_mal"]) == (3, 0.0)  # 4 days > 3
    other = await http.get(
        "/reports/verkstallighetstider", params={"quarter": _quarter(done)}, headers=token()
    )
    assert other.json()["kommun_config"] is None  # 1280 has no file: the defaults
    assert all(row["mal_dagar"] is None for row in other.json()["rows"])

    # the workflow's history names the version; the delegationsordning never travels in it
    wid = workflow_id_for(K, pseudonym(PSEUDONYM_KEY, K, pnr))
    history = await services.client.get_workflow_handle(wid).fetch_history()
    codec = services.client.data_converter.payload_codec
    assert codec is not None
    commands = []
    for event in history.events:
        accepted = event.workflow_execution_update_accepted_event_attributes
        if accepted.HasField("accepted_request"):
            payloads = await codec.decode(list(accepted.accepted_request.input.args.payloads))
            commands += [json.loads(p.data) for p in payloads]
    assert len(commands) == 8  # the refused beslut never reached the history
    assert {c["kommun_config"] for c in commands} == {CONFIGURED.version}
    assert all(c["delegationsordning"] is None for c in commands)
    decoded = json.dumps(commands)
    assert "lagsta_delegat" not in decoded and 'sektionschef", "beslutstyp' not in decoded
