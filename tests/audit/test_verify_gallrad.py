"""``audit verify`` and a case whose identity gallring destroyed: the workflow id is the one
gallring recorded for the case (``stored_workflow_id``), never the pseudonym of the missing
identity; without such a record the auditor is told there is no workflow id, not that a
workflow is missing. Real PostgreSQL, the session's dev Temporal server."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from temporalio.client import Client
from temporalio.worker import Worker

from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from domain.sealing import SHREDDED
from infra.audit.verify import NO_WORKFLOW_ID, verify_temporal
from infra.ops.gallring import run
from infra.persistence.store import CaseHead, CaseStore
from infra.temporal.case_workflow import all_links
from infra.temporal.commands import child_pseudonym
from tests.audit.test_verify_temporal import _until_visible
from tests.conftest import PSEUDONYM_KEY
from tests.domain.test_retention import Case
from tests.ops.test_gallring_temporal import AS_OF, NOW
from tests.ops.test_stuck_narrowed import StandIn, _start

#: A kommun of this module only: the session's dev server is shared with other tests.
KOMMUN = "9923"


def _closed(ref: str, born: date) -> Case:
    """A case closed in 2021: its identity is due for gallring on ``AS_OF``."""
    c = Case(ref=ref, kommun=KOMMUN, born=born).anmalan(date(2020, 1, 10))
    c.add("skyddsbedomning_gjord", date(2020, 1, 10), anmalan_id="a1", omedelbart_skydd=False)
    c.add("forhandsbedomning_beslutad", date(2020, 1, 20), anmalan_id="a1",
          beslut="inte_inleda_utredning")  # fmt: skip
    c.add("arende_avslutat", date(2021, 6, 1), orsak="ingen_utredning")
    return c


def _head(store: CaseStore, ref: str) -> CaseHead:
    return next(h for h in store.case_heads() if (h.kommun, h.case_ref) == (KOMMUN, ref))


async def test_a_gallrad_case_is_compared_with_its_real_workflow(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    for ev in _closed("VS-L", date(2010, 3, 4)).events + _closed("VS-U", date(2010, 2, 1)).events:
        store.record(ev, lagrum=False)
    linked_opening = store.case_events(case_id_for(KOMMUN, "VS-L"))[0]
    real = workflow_id_for(KOMMUN, child_pseudonym(linked_opening, PSEUDONYM_KEY))
    wkeys = store.workflow_keys
    assert wkeys is not None
    wkeys.live_key(real)  # VS-L's workflow ran (the codec made its key); VS-U's never did

    run(store, KOMMUN, "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
        pseudonym_key=PSEUDONYM_KEY)  # fmt: skip

    for ref in ("VS-L", "VS-U"):
        opening = store.case_events(case_id_for(KOMMUN, ref))[0]
        assert opening.data["barn"].get("identitet") == SHREDDED, ref
    # gallring reaches closed cases only; the comparison is of open ones, so both heads are
    # taken as open: what verify would meet if such a case were written to again
    linked, unlinked = (replace(_head(store, r), closed=False) for r in ("VS-L", "VS-U"))
    nothing = workflow_id_for(KOMMUN, pseudonym(PSEUDONYM_KEY, KOMMUN, "None"))
    async with Worker(dev_client, task_queue=task_queue, workflows=[StandIn]):
        await _start(dev_client, real, KOMMUN, linked.last_position, task_queue)
        await _until_visible(dev_client, real, linked.last_position)
        try:
            # the linked case is compared with its real, running workflow: no finding
            links = all_links(store)
            assert await verify_temporal(dev_client, [linked], PSEUDONYM_KEY, links) == []
            # the unlinked one is named as having no workflow id, nothing is compared
            findings = await verify_temporal(dev_client, [unlinked], PSEUDONYM_KEY, links)
        finally:
            await dev_client.get_workflow_handle(real).terminate(reason="test done")
    assert [(f.check, f.case_id, f.where) for f in findings] == [
        ("temporal", str(unlinked.case_id), f"{KOMMUN}/VS-U")
    ]
    assert findings[0].problem.startswith(NO_WORKFLOW_ID)
    assert "no running workflow" not in findings[0].problem
    assert nothing not in findings[0].line()
