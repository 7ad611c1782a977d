"""An appeal over HTTP (docs/domain.md §7.4, §5.9): the commands' guards answer 409 with the rule,
and ``GET /reports/overklaganden`` lists the pending appeal for the caller's kommun and units."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.factories import earlier_today, line


async def test_an_appeal_is_judged_by_its_guards_and_listed_until_it_is_handed_on(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    opened = lifecycle(ref, new_pnr(), enhet="barn-syd")[:6]  # ... beslut b1 (gynnande) today
    moments = iter(earlier_today(16))
    n = iter(range(100, 200))

    def cmd(etype: str, data: dict[str, Any]) -> dict[str, Any]:
        return line(etype, data, at=next(moments), key=f"{ref}-{next(n)}", case_ref=ref)

    for ev in opened:
        ev["occurred_at"] = next(moments).isoformat()
        r = await http.post("/commands", json=ev, headers=token("system"))
        assert r.status_code == 201, r.text
    steps = [
        cmd("beslut_delgivet", {"beslut_id": "b1", "part": "vardnadshavare_1"}),
        cmd("overklagande_mottaget", {"overklagande_id": "o1", "beslut_id": "b1"}),
    ]
    for step in steps:
        r = await http.post("/commands", json=step, headers=token("system"))
        assert r.status_code == 201, r.text
    position = int(r.json()["position"])

    # in time (delgiven today): it may not be avvisat; closing waits for it
    refused = [
        (cmd("rattidsprovning_gjord", {"overklagande_id": "o1", "i_tid": False}), "O1"),
        (cmd("overklagande_overlamnat", {"overklagande_id": "o1"}), "P-OVERKLAGANDE"),
        (cmd("overklagande_mottaget", {"overklagande_id": "o2", "beslut_id": "b9"}), "P-REF"),
    ]
    for body, rule in refused:
        r = await http.post("/commands", json=body, headers=token("system"))
        assert r.status_code == 409, r.text
        assert r.json()["rule"] == rule, r.json()

    report = await http.get(
        "/reports/overklaganden", params={"min_position": position}, headers=token("auditor")
    )
    assert report.status_code == 200, report.text
    [row] = [x for x in report.json()["rows"] if x["case_ref"] == ref]
    assert (row["status"], row["inkom_i_tid"], row["forsenat"]) == ("mottaget", True, False)
    assert row["enhet"] == "barn-syd" and row["overlamnat"] is None
    north = await http.get(
        "/reports/overklaganden", headers=token("handlaggare", units=("barn-nord",))
    )
    assert ref not in {x["case_ref"] for x in north.json()["rows"]}

    for step in (
        cmd("rattidsprovning_gjord", {"overklagande_id": "o1", "i_tid": True}),
        cmd("overklagande_overlamnat", {"overklagande_id": "o1"}),
    ):
        r = await http.post("/commands", json=step, headers=token("system"))
        assert r.status_code == 201, r.text
    at_court = await http.get(
        "/reports/overklaganden",
        params={"min_position": r.json()["position"]},
        headers=token("handlaggare", units=("barn-syd",)),
    )
    [row] = [x for x in at_court.json()["rows"] if x["case_ref"] == ref]
    assert row["status"] == "vid_domstol"
