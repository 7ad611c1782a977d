"""``GET /cases/{kommun}/{case_ref}/rules-preview?on=D``: one case's frister before and after a
change of law, with the same scope checks and access logging as the other content reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from domain.calendar import add_weeks
from infra.config.clock import today_stockholm
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line

SWITCH = "2027-01-01"


def _lvu_case(ref: str, pnr: str, at: list[datetime] | None = None) -> list[dict[str, Any]]:
    """Omedelbart omhändertagande today, verkställt and underställt: the ansökan is due in four
    weeks, across nothing or across the switch depending on the day the test runs. ``at``: the
    five steps' moments, by default five of today's (``earlier_today``: never before 00:00, so
    just after midnight the case is not dated yesterday, as ``now - 30 minutes`` dated it)."""
    moments = at or earlier_today(5)

    def ev(etype: str, data: dict[str, Any], n: int) -> dict[str, Any]:
        return line(etype, data, at=moments[n - 1], key=f"{ref}-{n}", case_ref=ref)

    return [
        ev(
            "anmalan_mottagen",
            {
                "anmalan_id": "anm-1",
                "barn": {"personnummer": pnr, "kon": "pojke"},
                "anmalare_kategori": "polis",
                "enhet": "barn-vast",
            },
            1,
        ),
        ev("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": True}, 2),
        ev(
            "lvu_omhandertagande_beslutat",
            {"beslut_id": "L1", "delegat": {"id": "o1", "roll": "ordforande"}},
            3,
        ),
        ev("lvu_omhandertagande_verkstallt", {"beslut_id": "L1"}, 4),
        ev("lvu_understalld", {"beslut_id": "L1"}, 5),
    ]


async def _send_all(http: httpx.AsyncClient, token: Token, lines: list[dict[str, Any]]) -> int:
    pos = 0
    for ln in lines:
        r = await http.post("/commands", json=ln, headers=token("system"))
        assert r.status_code in (200, 201), r.text
        pos = int(r.json()["position"])
    return pos


async def test_preview_of_an_lvu_case_lists_its_running_frister_on_both_sides(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    pos = await _send_all(http, token, _lvu_case(ref, new_pnr()))
    today = today_stockholm()
    r = await http.get(
        f"/cases/1280/{ref}/rules-preview",
        params={"on": SWITCH, "min_position": pos},
        headers={**token("handlaggare"), "X-Barnflow-Purpose": "lagandring"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kommun"], body["case_ref"], body["on"]) == ("1280", ref, SWITCH)
    switch = body["law_switch"]
    assert (switch["id"], switch["old_law"], switch["new_law"]) == (
        "LVU2027",
        "LVU 1990:52",
        "lag 2026:1600",
    )
    assert "POL-LVU2027-TRIGGER" in switch["policies"]
    assert body["open"] is True and body["compulsory_care"] is True
    by_rule = {f["rule"]: f for f in body["frister"]}
    # E2 (underställning) was met today, before the switch: nothing can change for it
    assert "E2" not in by_rule
    e3 = by_rule["E3"]  # the ansökan, four weeks from verkställigheten
    assert e3["before"]["law"] == "LVU 1990:52" and e3["before"]["paragraph"] == "8 §"
    assert e3["before"]["due"] == add_weeks(today, 4).isoformat()
    # status as of the switch day: still running then, or overdue if it falls due before it
    due = add_weeks(today, 4)
    assert e3["before"]["status"] == ("overdue" if due < date.fromisoformat(SWITCH) else "open")
    # the switch itself starts no new frist: the same ansökan is due the same day after it
    assert e3["after"]["due"] == e3["before"]["due"]
    # it runs across the switch: the named policies that keep its LVU paragraph are given
    if due >= date.fromisoformat(SWITCH):
        assert "policy_applied" in e3["changes"]
        assert e3["policies"][:2] == ["POL-LVU2027-TRIGGER", "POL-LVU2027-E3-START"]
    else:  # due before the switch: the switch does not touch it
        assert e3["changes"] == ["unchanged"] and e3["policies"] == []

    # the read is in the case's access log with its purpose
    tl = await http.get(f"/cases/1280/{ref}/timeline", headers=token("auditor"))
    assert tl.status_code == 200, tl.text
    assert any(
        read["purpose"] == "lagandring" and read["who"] == "handlaggare-1"
        for read in tl.json()["reads"]
    )


async def test_a_closed_case_without_compulsory_care_has_nothing_to_preview(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    pos = await _send_all(http, token, lifecycle(ref, new_pnr()))
    r = await http.get(
        f"/cases/1280/{ref}/rules-preview",
        params={"on": SWITCH, "min_position": pos},
        headers=token("handlaggare"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open"] is False and body["compulsory_care"] is False
    assert body["frister"] == []


async def test_bad_input_is_problem_json(http: httpx.AsyncClient, token: Token) -> None:
    ref = new_ref()
    await _send_all(http, token, _lvu_case(ref, new_pnr()))
    for params in ({"on": "2027-13-01"}, {"on": "next year"}, {}):
        r = await http.get(
            f"/cases/1280/{ref}/rules-preview", params=params, headers=token("handlaggare")
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "on"
    unknown = await http.get(
        "/cases/1280/no-such-case/rules-preview", params={"on": SWITCH}, headers=token()
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    other = await http.get(
        f"/cases/0127/{ref}/rules-preview", params={"on": SWITCH}, headers=token()
    )
    assert other.status_code == 403  # a token of kommun 1280 reads no case of 0127
    bad_kommun = await http.get(
        f"/cases/12x0/{ref}/rules-preview", params={"on": SWITCH}, headers=token()
    )
    assert bad_kommun.status_code == 422


async def test_a_closed_lvu_case_is_closed_and_has_nothing_running(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    moments = earlier_today(11)
    lines = _lvu_case(ref, new_pnr(), moments[:5])
    for n, (etype, data) in enumerate(
        [
            ("forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}),
            ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}),
            ("utredning_avslutad", {"utredning_id": "u1", "utfall": "lvu_ansokan"}),
            (
                "lvu_ansokan_inlamnad",
                {"beslut_id": "L1", "grund": "hem", "lakarundersokning_obehovlig": True},
            ),
            ("lvu_dom", {"utfall": "avslag", "beslut_id": "L1"}),
            ("arende_avslutat", {"orsak": "lvu_avslag"}),
        ],
        start=10,
    ):
        lines.append(line(etype, data, at=moments[n - 5], key=f"{ref}-{n}", case_ref=ref))
    pos = await _send_all(http, token, lines)
    r = await http.get(
        f"/cases/1280/{ref}/rules-preview",
        params={"on": SWITCH, "min_position": pos},
        headers=token("handlaggare"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open"] is False and body["compulsory_care"] is True
    # the court rejected the ansökan today and every frist was met: nothing crosses the line
    assert body["frister"] == []
