"""A case whose workflow was lost (terminated by hand) while the record says it is open: the
integrator is told the truth (503 naming the case, repairable), never "the case is closed",
and the operator repairs it with what the problem and ``ops stuck`` print."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from domain.identity import pseudonym
from domain.ids import workflow_id_for
from infra.api.services import Services
from infra.ops.repair import repair
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.conftest import PSEUDONYM_KEY
from workflows.messages import STATE_QUERY, CaseSummary


async def test_command_for_a_case_whose_workflow_was_terminated_is_503_not_closed(
    http: httpx.AsyncClient, token: Token, services: Services, pg_url: str
) -> None:
    ref, pnr = new_ref(), new_pnr()
    steps = lifecycle(ref, pnr)
    hdr = token("handlaggare")
    opened = await http.post("/commands", json=steps[0], headers=hdr)
    assert opened.status_code == 201, opened.text
    wid = workflow_id_for("1280", pseudonym(PSEUDONYM_KEY, "1280", pnr))
    await services.client.get_workflow_handle(wid).terminate(reason="test: lost workflow")

    lost = await http.post("/commands", json=steps[1], headers=hdr)
    assert lost.status_code == 503, lost.text
    assert lost.headers["content-type"].startswith("application/problem+json")
    assert int(lost.headers["retry-after"]) > 0
    problem = lost.json()
    assert problem["type"].endswith("/workflow-missing")
    assert (problem["case_ref"], problem["kommun"]) == (ref, "1280")
    assert "barnflow ops repair" in problem["detail"] and ref in problem["detail"]
    assert "rule" not in problem and "avslutat" not in lost.text  # not P-CLOSED
    assert pnr not in lost.text and pnr[2:] not in lost.text
    # the read side agrees: the case is open, and nothing was stored by the refused command
    state = await http.get(f"/cases/1280/{ref}", headers=token("arbetsledare"))
    assert state.status_code == 200 and state.json()["closed"] is False
    assert state.json()["event_count"] == 1

    # the operator repairs it with the workflow id (what `ops stuck` prints); the retry succeeds
    await repair(
        services.client,
        services.store,
        services.settings,
        pg_url,
        case_ref=wid,
        reason="test: workflow lost",
        actor="ops1",
        apply=True,
    )
    retried = await http.post("/commands", json=steps[1], headers=hdr)
    assert retried.status_code == 201, retried.text


async def test_an_anmalan_joining_a_case_whose_workflow_was_lost_adopts_the_record(
    http: httpx.AsyncClient, token: Token, services: Services
) -> None:
    """The joining anmälan starts a new workflow run (update-with-start) — from the record, not
    empty: the new run knows the förhandsbedömning already taken and judges the next command
    against the whole case."""
    ref, pnr = new_ref(), new_pnr()
    steps = lifecycle(ref, pnr)
    hdr = token("handlaggare")
    for step in steps[:3]:  # anmälan, skyddsbedömning, förhandsbedömning (inleda utredning)
        r = await http.post("/commands", json=step, headers=hdr)
        assert r.status_code == 201, r.text
    wid = workflow_id_for("1280", pseudonym(PSEUDONYM_KEY, "1280", pnr))
    await services.client.get_workflow_handle(wid).terminate(reason="test: lost workflow")

    second = {
        **steps[0],
        "idempotency_key": f"{ref}-anm-2",
        "data": {**steps[0]["data"], "anmalan_id": "anm-2"},
    }
    joined = await http.post("/commands", json=second, headers=hdr)
    assert joined.status_code == 201, joined.text
    # the new run holds the whole record: four events, the first förhandsbedömning taken
    state = await http.get(f"/cases/1280/{ref}", headers=token("arbetsledare"))
    assert state.status_code == 200 and state.json()["event_count"] == 4
    summary = await services.client.get_workflow_handle(wid).query(
        STATE_QUERY, result_type=CaseSummary
    )
    assert (summary.event_count, summary.closed) == (4, False)  # an empty run would say 1


async def test_a_closed_case_is_still_p_closed(
    http: httpx.AsyncClient, token: Token, services: Services
) -> None:
    ref = new_ref()
    steps = lifecycle(ref, new_pnr())
    hdr = token("handlaggare")
    for step in steps:
        r = await http.post("/commands", json=step, headers=hdr)
        assert r.status_code == 201, r.text
    late = dict(steps[1], idempotency_key=f"{ref}-late")
    refused = await http.post("/commands", json=late, headers=hdr)
    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "P-CLOSED"


pytestmark = pytest.mark.timeout(300)


async def test_store_reads_for_a_command_do_not_block_the_event_loop(
    http: httpx.AsyncClient,
    token: Token,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review finding 8: every opening command reads (and folds) its case's stream; on the
    API's event loop that read would stall every other request. The reads run in a worker
    thread: the real store is called, and the thread it is called on is recorded."""
    loop_thread = threading.current_thread()
    threads: list[threading.Thread] = []
    read = services.store.case_events

    def spying(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return read(*args, **kwargs)

    monkeypatch.setattr(services.store, "case_events", spying)
    ref, pnr = new_ref(), new_pnr()
    steps = lifecycle(ref, pnr)
    hdr = token("handlaggare")
    opened = await http.post("/commands", json=steps[0], headers=hdr)
    assert opened.status_code == 201, opened.text
    wid = workflow_id_for("1280", pseudonym(PSEUDONYM_KEY, "1280", pnr))
    await services.client.get_workflow_handle(wid).terminate(reason="test: lost workflow")
    lost = await http.post("/commands", json=steps[1], headers=hdr)  # reads: is it open?
    assert lost.status_code == 503, lost.text
    assert len(threads) >= 3  # opening, recorded history, open-in-store
    assert loop_thread not in threads
