"""A case's page after gallring destroyed the child's identity: the workflow shown is the one
gallring recorded for the case (``stored_workflow_id``), not a workflow named by the pseudonym
of the missing identity; a case without such a record shows no workflow, and no error."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from uuid import UUID

import httpx

from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from domain.sealing import SHREDDED
from infra.api.services import Services
from infra.ops.gallring import run
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.conftest import PSEUDONYM_KEY

#: A kommun of this test only: gallring acts on a whole kommun of the session's shared store.
KOMMUN = "2584"
#: Far enough ahead that today's closed cases are due for gallring.
AS_OF = date(2080, 1, 1)


def _gallrable_pnr() -> str:
    """A child not born on the 5th, 15th or 25th: those records are kept for research
    (``domain.retention.RESEARCH_DAYS``), so gallring would not reach the identity."""
    while (pnr := new_pnr())[6:8] in ("05", "15", "25"):
        pass
    return pnr


async def _closed_case(http: httpx.AsyncClient, token: Token, pnr: str) -> str:
    ref = new_ref()
    for step in lifecycle(ref, pnr):
        r = await http.post("/commands", json={**step, "kommun": KOMMUN},
                            headers=token("handlaggare", kommun=KOMMUN))  # fmt: skip
        assert r.status_code == 201, r.text
    return ref


async def test_a_gallrad_case_shows_its_real_workflow(
    http: httpx.AsyncClient, token: Token, services: Services
) -> None:
    linked_pnr, unlinked_pnr = _gallrable_pnr(), _gallrable_pnr()
    linked = await _closed_case(http, token, linked_pnr)
    unlinked = await _closed_case(http, token, unlinked_pnr)
    real = workflow_id_for(KOMMUN, pseudonym(PSEUDONYM_KEY, KOMMUN, linked_pnr))
    wkeys = services.store.workflow_keys
    assert wkeys is not None
    # the session's worker encrypts under the cluster key; a deployment's codec makes a key per
    # workflow, which gallring links to the case before destroying it: as that codec did
    wkeys.live_key(real)

    await asyncio.to_thread(
        run, services.store, KOMMUN, "GN 2080-01 §1", as_of=AS_OF,
        now=datetime(2080, 1, 1, 12, tzinfo=UTC), apply=True, pseudonym_key=PSEUDONYM_KEY,
    )  # fmt: skip
    for ref in (linked, unlinked):
        opening = services.store.case_events(case_id_for(KOMMUN, ref))[0]
        assert opening.data["barn"].get("identitet") == SHREDDED, ref
    assert [r.workflow_id for r in wkeys.rows(case_id=str(case_id_for(KOMMUN, linked)))] == [real]

    reader = token("arbetsledare", kommun=KOMMUN)
    state = await http.get(f"/cases/{KOMMUN}/{linked}", headers=reader)
    assert state.status_code == 200, state.text
    shown = state.json()["workflow"]
    assert shown is not None and shown["workflow_id"] == real
    assert UUID(state.json()["case_id"]) == case_id_for(KOMMUN, linked)

    # no identity and no link: no workflow to show, and the page still answers
    state = await http.get(f"/cases/{KOMMUN}/{unlinked}", headers=reader)
    assert state.status_code == 200, state.text
    assert state.json()["workflow"] is None
    nothing = workflow_id_for(KOMMUN, pseudonym(PSEUDONYM_KEY, KOMMUN, "None"))
    assert nothing not in state.text


async def test_no_command_reaches_a_gallrad_case(
    http: httpx.AsyncClient, token: Token, services: Services
) -> None:
    """After gallring neither a new anmälan under the case's reference nor any other command
    reaches Temporal (P-GALLRAD): the pseudonym of the destroyed identity would name one
    workflow shared by every gallrad child of the kommun."""
    pnr = _gallrable_pnr()
    ref = await _closed_case(http, token, pnr)
    await asyncio.to_thread(
        run, services.store, KOMMUN, "GN 2080-01 §2", as_of=AS_OF,
        now=datetime(2080, 1, 1, 12, tzinfo=UTC), apply=True, pseudonym_key=PSEUDONYM_KEY,
    )  # fmt: skip
    assert (
        services.store.case_events(case_id_for(KOMMUN, ref))[0].data["barn"].get("identitet")
        == SHREDDED
    )
    before = len(services.store.case_events(case_id_for(KOMMUN, ref)))
    steps = lifecycle(ref, new_pnr())
    hdr = token("handlaggare", kommun=KOMMUN)
    for step in (steps[0], steps[1]):  # a new anmälan under the reference, then a command
        body = {**step, "kommun": KOMMUN, "idempotency_key": f"{step['idempotency_key']}-late"}
        r = await http.post("/commands", json=body, headers=hdr)
        assert r.status_code == 409, r.text
        assert r.json()["rule"] == "P-GALLRAD"
    assert len(services.store.case_events(case_id_for(KOMMUN, ref))) == before
    shared = workflow_id_for(KOMMUN, pseudonym(PSEUDONYM_KEY, KOMMUN, "None"))
    count = await services.client.count_workflows(f"WorkflowId = '{shared}'")
    assert count.count == 0
