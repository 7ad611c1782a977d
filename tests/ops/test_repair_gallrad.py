"""``ops repair`` and cases gallring reached: the workflow id gallring recorded still finds its
case, and a case without that record is refused with why, never matched through the pseudonym
of its destroyed identity. Real PostgreSQL, the session's dev Temporal server."""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.client import Client

from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from infra.ops.gallring import run
from infra.ops.repair import find_case, repair
from infra.persistence.store import CaseStore
from infra.temporal.commands import child_pseudonym
from infra.temporal.devserver import DevServer
from tests.audit.test_verify_gallrad import _closed
from tests.conftest import PSEUDONYM_KEY
from tests.ops.test_gallring_temporal import AS_OF, NOW
from tests.ops.test_repair_targets import _env, _settings


async def test_repair_names_a_gallrad_case_by_its_recorded_workflow(
    dev_client: Client, dev_temporal: DevServer, store: CaseStore, pg_url: str, schema: str
) -> None:
    for ev in _closed("VS-L", date(2010, 3, 4)).events + _closed("VS-U", date(2010, 2, 1)).events:
        store.record(ev, lagrum=False)
    kommun = "9923"
    opening = store.case_events(case_id_for(kommun, "VS-L"))[0]
    real = workflow_id_for(kommun, child_pseudonym(opening, PSEUDONYM_KEY))
    assert store.workflow_keys is not None
    store.workflow_keys.live_key(real)
    run(store, kommun, "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
        pseudonym_key=PSEUDONYM_KEY)  # fmt: skip

    linked = str(case_id_for(kommun, "VS-L"))
    with pytest.raises(LookupError, match=f"has no open case \\(closed: {linked}\\)"):
        find_case(store, PSEUDONYM_KEY, real)
    nothing = workflow_id_for(kommun, pseudonym(PSEUDONYM_KEY, kommun, "None"))
    with pytest.raises(LookupError, match="no case with workflow id"):
        find_case(store, PSEUDONYM_KEY, nothing)

    unlinked = str(case_id_for(kommun, "VS-U"))
    settings = _settings(_env(pg_url, schema, dev_temporal.address))
    with pytest.raises(LookupError, match="gallrad and has no recorded workflow id"):
        await repair(dev_client, store, settings, pg_url, case_ref=unlinked, reason="test",
                     actor="ops1")  # fmt: skip
