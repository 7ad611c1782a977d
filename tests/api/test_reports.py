"""``GET /reports/{name}`` over HTTP: the frister list as of a date, the EVB list of a quarter,
the period options of the CLI (a wrong one is 422 problem+json naming it), and unit scoping."""

from __future__ import annotations

from datetime import timedelta

import httpx

from infra.config.clock import today_stockholm
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref


async def _open_case(http: httpx.AsyncClient, token: Token, enhet: str) -> tuple[str, int]:
    """A case with an anmälan today (so its förhandsbedömning frist is open); ref and position."""
    ref = new_ref()
    r = await http.post(
        "/commands", json=lifecycle(ref, new_pnr(), enhet=enhet)[0], headers=token("system")
    )
    assert r.status_code == 201, r.text
    return ref, int(r.json()["position"])


async def test_frister_report_lists_open_frister_as_of_a_date_for_the_callers_units(
    http: httpx.AsyncClient, token: Token
) -> None:
    south, _ = await _open_case(http, token, "barn-syd")
    north, pos = await _open_case(http, token, "barn-nord")
    today = today_stockholm()

    r = await http.get("/reports/frister", params={"min_position": pos}, headers=token())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"] == "frister" and body["kommun"] == "1280"
    assert body["period"]["kind"] == "as_of" and body["period"]["end"] == today.isoformat()
    mine = [row for row in body["rows"] if row["case_ref"] == south]
    forhand = [row for row in mine if row["rule"] == "A2"]
    assert len(forhand) == 1 and forhand[0]["enhet"] == "barn-syd"
    assert forhand[0]["days_left"] >= 0  # the anmälan came in today: not yet overdue
    assert any(row["case_ref"] == north for row in body["rows"])
    # how current the views were: at least the position waited for, never past the store's head
    views, head = int(r.headers["Barnflow-Views-Position"]), int(r.headers["Barnflow-Store-Head"])
    assert pos <= views <= head
    assert int(r.headers["Barnflow-Views-Lag"]) == head - views

    later = today + timedelta(days=60)
    late = await http.get("/reports/frister", params={"as_of": later.isoformat()}, headers=token())
    [row] = [x for x in late.json()["rows"] if x["case_ref"] == south and x["rule"] == "A2"]
    assert row["days_left"] < 0  # the same frist, sixty days on, is overdue

    unit = await http.get("/reports/frister", headers=token("handlaggare", units=("barn-syd",)))
    assert unit.status_code == 200, unit.text
    refs = {row["case_ref"] for row in unit.json()["rows"]}
    assert south in refs and north not in refs
    assert {row["enhet"] for row in unit.json()["rows"]} == {"barn-syd"}

    other = await http.get("/reports/frister", headers=token(kommun="0127"))
    assert south not in {row["case_ref"] for row in other.json()["rows"]}


async def test_evb_report_takes_a_quarter(http: httpx.AsyncClient, token: Token) -> None:
    r = await http.get("/reports/evb", params={"quarter": "2026Q1"}, headers=token("auditor"))
    assert r.status_code == 200, r.text
    period = r.json()["period"]
    assert (period["kind"], period["label"]) == ("quarter", "2026Q1")
    assert (period["start"], period["end"]) == ("2026-01-01", "2026-03-31")
    assert r.json()["report"] == "evb"

    today = today_stockholm()
    current = await http.get("/reports/evb", headers=token("auditor"))
    assert current.json()["period"]["label"] == f"{today.year}Q{(today.month - 1) // 3 + 1}"


async def test_bad_report_requests_are_problems_naming_the_option(
    http: httpx.AsyncClient, token: Token
) -> None:
    cases = [
        ("/reports/evb", {"quarter": "2026Q5"}, token("auditor"), 422, "quarter"),
        ("/reports/evb", {"month": "2026-03"}, token("auditor"), 422, "month"),
        ("/reports/frister", {"as_of": "2026-02-30"}, token(), 422, "as_of"),
        ("/reports/utredningstider", {"half": "2026H3"}, token(), 422, "half"),
        ("/reports/frister", {"known_at": "2026-01-01T00:00:00"}, token(), 422, "known_at"),
        ("/reports/no-such-report", {}, token(), 404, None),
        ("/reports/frister", {}, token("operator"), 403, None),
        ("/reports/evb", {}, token("handlaggare", units=("barn-syd",)), 403, None),
    ]
    for path, params, headers, status, field in cases:
        r = await http.get(path, params=params, headers=headers)
        assert r.status_code == status, (path, params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == status and problem["detail"]
        if field is not None:
            assert problem["field"] == field, problem


async def test_a_report_as_csv_for_swedish_excel_and_as_plain_csv(
    http: httpx.AsyncClient, token: Token
) -> None:
    """``format=csv-excel``: a file a Swedish Excel opens (BOM, ``;``, CRLF) whose every row
    says which report, kommun and period it is; ``format=csv`` the same rows for programs."""
    ref, pos = await _open_case(http, token, "barn-syd")
    today = today_stockholm().isoformat()
    params = {"min_position": str(pos), "format": "csv-excel"}
    r = await http.get("/reports/frister", params=params, headers=token())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="frister-1280-{today}.csv"'
    assert int(r.headers["Barnflow-Views-Position"]) >= pos
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
    lines = raw[3:].decode("utf-8").split("\r\n")[:-1]
    header = lines[0].split(";")
    assert header[:4] == ["rapport", "kommun", "period", "per_datum"]
    assert "kant_per" not in header  # no known_at asked for
    mine = [dict(zip(header, line.split(";"), strict=True)) for line in lines[1:] if ref in line]
    [a2] = [row for row in mine if row["rule"] == "A2"]
    assert (a2["rapport"], a2["kommun"], a2["period"], a2["per_datum"]) == (
        "frister",
        "1280",
        today,
        today,
    )
    assert a2["enhet"] == "barn-syd" and int(a2["days_left"]) >= 0

    plain = await http.get("/reports/frister", params={**params, "format": "csv"}, headers=token())
    assert plain.status_code == 200 and not plain.content.startswith(b"\xef\xbb\xbf")
    first = plain.text.split("\n")[0]
    assert first.startswith("rapport,kommun,period,per_datum,") and ";" not in first

    bad = await http.get("/reports/frister", params={"format": "xlsx"}, headers=token())
    assert bad.status_code == 422, bad.text
