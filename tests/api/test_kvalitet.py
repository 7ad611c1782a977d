"""Complaints and lex Sarah over HTTP (docs/law.md §14): a complaint without a case is recorded,
a retry answers 200, a step out of order is 409 with its rule, a personnummer in free text or an
unknown field is 422 problem+json naming the field (nothing stored); the kommun's own days (7 for
the configured kommun) decide KL1 in the listing; the lex Sarah flow refuses an anmälan to IVO
without an allvarligt bedömning; the yearly reports answer as CSV for a Swedish Excel."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx

from domain.calendar import STOCKHOLM
from infra.config.clock import today_stockholm
from tests.api.conftest import CONFIGURED_KOMMUN, Token, new_pnr

KOMMUN = CONFIGURED_KOMMUN  # klagomal.dagar = 7


def _at(days_ago: int) -> str:
    day = today_stockholm() - timedelta(days=days_ago)
    return datetime.combine(day, time(10, 0), tzinfo=STOCKHOLM).isoformat()


def _line(arende: str, etype: str, data: dict[str, Any], days_ago: int) -> dict[str, Any]:
    return {
        "kommun": KOMMUN,
        "arende_id": arende,
        "type": etype,
        "occurred_at": _at(days_ago),
        "actor": {"id": "kv-1", "roll": "enhetschef"},
        "idempotency_key": f"{arende}-{etype}",
        "data": data,
    }


KL_IN = {"avsandare": "barn", "kategori": "delaktighet", "enhet": "barn-ost", "kanal": "e_tjanst"}


async def test_complaints_are_recorded_refused_and_listed_with_the_kommuns_days(
    http: httpx.AsyncClient, token: Token
) -> None:
    headers = token("handlaggare", kommun=KOMMUN)
    late, fresh, done = (f"KL-{uuid.uuid4().hex[:8]}" for _ in range(3))
    first = await http.post(
        "/klagomal/commands", json=_line(late, "klagomal_inkommet", KL_IN, 10), headers=headers
    )
    assert first.status_code == 201, first.text
    retry = await http.post(
        "/klagomal/commands", json=_line(late, "klagomal_inkommet", KL_IN, 10), headers=headers
    )
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["position"] == first.json()["position"]
    for arende, data, ago in ((fresh, KL_IN, 2), (done, {**KL_IN, "avsandare": "anonym"}, 9)):
        r = await http.post(
            "/klagomal/commands",
            json=_line(arende, "klagomal_inkommet", data, ago),
            headers=headers,
        )
        assert r.status_code == 201, r.text
    answered = _line(done, "klagomal_aterkopplat", {"utfall": "ej_befogat"}, 3)
    assert (
        await http.post("/klagomal/commands", json=answered, headers=headers)
    ).status_code == 201

    again = _line(done, "klagomal_atgard", {"atgard": "utbildning"}, 1)
    refused = await http.post("/klagomal/commands", json=again, headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["rule"] == "KL-AVSLUTAT" and refused.json()["sv"]

    listing = await http.get(f"/klagomal/{KOMMUN}", headers=headers)
    assert listing.status_code == 200, listing.text
    rows = {r["arende_id"]: r for r in listing.json()["arenden"]}
    today = today_stockholm()
    (kl1,) = rows[late]["frister"]
    # 10 days ago, 7 days (the kommun's klagomal.dagar): overdue since 3 days
    assert (kl1["regel"], kl1["sista_dag"], kl1["status"]) == (
        "KL1",
        (today - timedelta(days=3)).isoformat(),
        "forsenad",
    )
    assert rows[fresh]["frister"][0]["status"] == "oppen"
    assert (rows[done]["frister"][0]["status"], rows[done]["frister"][0]["dagar"]) == ("i_tid", 6)
    assert rows[done]["utfall"] == "ej_befogat" and rows[done]["avsandare"] == "anonym"
    assert rows[done]["atgarder"] == []  # the refused åtgärd was not stored


async def test_bad_complaint_input_is_422_problem_json_naming_the_field(
    http: httpx.AsyncClient, token: Token
) -> None:
    headers = token("handlaggare", kommun=KOMMUN)
    arende = f"KL-{uuid.uuid4().hex[:8]}"
    bad = [
        ({**KL_IN, "beskrivning": f"Gäller {new_pnr()}"}, "data.beskrivning"),
        ({**KL_IN, "avsandare": "Anna Andersson"}, "data.avsandare"),
        ({**KL_IN, "namn": "Anna"}, None),  # refused by the typed model
        ({k: v for k, v in KL_IN.items() if k != "enhet"}, None),
    ]
    for data, field in bad:
        r = await http.post(
            "/klagomal/commands", json=_line(arende, "klagomal_inkommet", data, 1), headers=headers
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        if field is not None:
            assert r.json()["field"] == field, r.json()
    lex = _line(arende, "lex_sarah_rapporterad", {}, 1)
    wrong_route = await http.post("/klagomal/commands", json=lex, headers=headers)
    assert wrong_route.status_code == 422, wrong_route.text
    listing = (await http.get(f"/klagomal/{KOMMUN}", headers=headers)).json()
    assert arende not in {r["arende_id"] for r in listing["arenden"]}  # nothing stored


async def test_lex_sarah_goes_to_ivo_only_when_allvarligt_and_reports_as_csv(
    http: httpx.AsyncClient, token: Token
) -> None:
    headers = token("handlaggare", kommun=KOMMUN)
    arende = f"LS-{uuid.uuid4().hex[:8]}"
    rapport = {"avser": "missforhallande", "enhet": "hvb-norr", "rapportor": "personal_hvb"}
    steps = [
        ("lex_sarah_rapporterad", rapport, 6, 201),
        ("lex_sarah_anmald_ivo", {"utredning_bifogad": True}, 5, 409),
        ("lex_sarah_utredning_startad", {}, 5, 201),
        ("lex_sarah_bedomd", {"allvarligt": True, "motivering": "Brist i tillsynen."}, 4, 201),
        ("lex_sarah_avslutad", {}, 3, 409),
    ]
    for etype, data, ago, status in steps:
        r = await http.post(
            "/lex-sarah/commands", json=_line(arende, etype, data, ago), headers=headers
        )
        assert r.status_code == status, (etype, r.text)
        if status == 409:
            assert r.json()["rule"] == "LS-ANMALAN"
    listing = (await http.get(f"/lex-sarah/{KOMMUN}", headers=headers)).json()
    [row] = [r for r in listing["arenden"] if r["arende_id"] == arende]
    statuses = {f["regel"]: f["status"] for f in row["frister"]}
    # utredning the day after, bedömd after 2 days, IVO due 7 days after: open for 3 more days
    assert statuses == {"LS1": "i_tid", "LS2": "i_tid", "LS3": "oppen"}
    assert row["allvarligt"] is True and row["anmald_ivo"] is None

    year = date.fromisoformat(_at(6)[:10]).year
    r = await http.get(
        "/reports/lex-sarah", params={"year": str(year), "format": "csv-excel"}, headers=token()
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="lex-sarah-1280-{year}.csv"'
    lines = r.content[3:].decode("utf-8").split("\r\n")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert lines[0].split(";")[:5] == ["rapport", "kommun", "period", "per_datum", "arende_id"]
    mine = await http.get(
        "/reports/lex-sarah", params={"year": str(year)}, headers=token(kommun=KOMMUN)
    )
    assert mine.status_code == 200, mine.text
    [report_row] = [x for x in mine.json()["rows"] if x["arende_id"] == arende]
    assert (report_row["ls1"], report_row["allvarligt"]) == ("i_tid", True)
