"""An LVU omhändertagande recorded twice, as a beslut_fattat and as the lvu event naming it.

``lvu_omhandertagande_beslutat.beslut_id`` is a reference: a calling system may record the
decision as a ``beslut_fattat`` and point the LVU event at it. The domain accepts that pair, so
the views must too: before, both became rows of the beslut view under one key, the runner stopped
on a UniqueViolation and every report waiting for it answered 503.
"""

from __future__ import annotations

from datetime import date

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import caught_up, rebuild
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_THIRD
from tests.projections.test_as_of import LOADED, _Case

DELEGAT = {"id": "ordf1", "roll": "ordforande"}


def _case() -> _Case:
    c = _Case("LVU-DUBBEL", PNR_THIRD, "annat", date(2026, 3, 2))
    c.add(
        date(2026, 3, 3),
        "beslut_fattat",
        {
            "beslut_id": "B-LVU-1",
            "lagrum": "LVU 6 §",
            "beslutstyp": "omedelbart_omhandertagande",
            "gynnande": False,
            "delegat": DELEGAT,
        },
    )
    c.add(
        date(2026, 3, 3),
        "lvu_omhandertagande_beslutat",
        {"beslut_id": "B-LVU-1", "delegat": DELEGAT},
    )
    return c


def test_the_decision_is_one_row_and_the_views_keep_running(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    import_lines(store, _case().jsonl(), now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    for fold in ("incremental", "rebuild"):
        if fold == "rebuild":
            rebuild(env)
        with caught_up(env) as runner, runner.view.cursor() as curs:
            curs.execute(
                f"SELECT beslut_id FROM {schema}.beslut WHERE case_ref = %s ORDER BY beslut_id",
                ("LVU-DUBBEL",),
            )
            ids = [r["beslut_id"] for r in curs.fetchall()]
        assert ids == ["B-LVU-1"], fold  # the decision once, under its beslut_fattat
    doc = REPORTS["delegationsbeslut"].build(env, "1280", parse_period("month", "2026-03"))
    rows = [r for r in doc["rows"] if r["case_ref"] == "LVU-DUBBEL"]
    # the delegationsbeslut list shows each recorded decision event, judged on its own: both
    assert len(rows) == 2
