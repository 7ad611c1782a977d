"""A registerutdrag (GDPR art. 15) of an unshredded child lists every event and every read, is
itself logged, and never puts the personnummer into the access log (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from psycopg import sql

from domain.ids import case_id_for
from infra.audit.registerutdrag import PersonNotFound, registerutdrag, render_html
from infra.persistence.access_log import TABLE, record_access
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.runner import rebuild
from projections.view import open_view
from tests.conftest import CIPHER_KEY
from tests.domain.test_retention import pnr
from tests.projections.test_retention_plan import backdated_store

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PNR = pnr(date(2005, 2, 2))  # the placed child, case VS-P


def test_registerutdrag_lists_every_event_and_read_and_is_logged(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    backdated_store(store)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    rebuild(env)
    cid = case_id_for("1280", "VS-P")
    record_access(store, "u77", "socialsekreterare", "1280", cid, "uppföljning", AT)
    view = open_view(env)
    args = {"who": "reg1", "role": "registrator", "purpose": "begäran 2026-11-02", "at": AT,
            "as_of": date(2026, 11, 30), "pseudonym_key": b"p" * 32}  # fmt: skip
    doc = registerutdrag(store, view, "1280", PNR, **args)
    assert [c["case_ref"] for c in doc["cases"]] == ["VS-P"]
    stored = store.case_events(cid)
    listed = doc["cases"][0]["events"]
    assert [e["position"] for e in listed] == [e.position for e in stored]
    assert listed[0]["data"]["barn"]["personnummer"] == PNR  # opened for the person
    assert doc["cases"][0]["frister"], "derived frister are listed"
    reads = doc["cases"][0]["reads"]
    assert [(r["who"], r["purpose"]) for r in reads] == [
        ("u77", "uppföljning"),
        ("reg1", "registerutdrag: begäran 2026-11-02"),  # producing it is itself a read
    ]
    assert {r["klass"] for r in doc["gallring"]} >= {"placering"}
    # by case reference: the same person
    again = registerutdrag(store, view, "1280", "VS-P", **args)
    assert [c["case_ref"] for c in again["cases"]] == ["VS-P"]
    page = render_html(doc)
    assert "<script" not in page and "Vem har läst ärendet" in page and "u77" in page
    # the access log names cases, never the personnummer
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(TABLE))
        ).fetchall()
    assert len(rows) == 3 and all(PNR not in str(r) for r in rows)
    with pytest.raises(PersonNotFound) as err:
        registerutdrag(store, view, "1280", pnr(date(1999, 9, 9)), **args)
    assert "1999" not in str(err.value)
