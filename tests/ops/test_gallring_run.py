"""`barnflow gallring run` on a backdated store (real PostgreSQL): the data keys of what is due
are destroyed, the research sample and placements survive, verify still passes, the content is
unreadable in raw SQL, reports drop it and past statistics are unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import sql

from domain.ids import case_id_for
from domain.sealing import SHREDDED
from infra.audit.verify import verify_store
from infra.ops.gallring import GallringError, plan_run, run
from infra.persistence.cipher import Keyring
from infra.persistence.datakeys import TABLE
from infra.persistence.store import EVENTS_TABLE, CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS, dumps
from projections.runner import rebuild
from projections.timeline import case_timeline
from projections.view import open_view
from tests.conftest import CIPHER_KEY
from tests.domain.test_retention import pnr
from tests.projections.test_retention_plan import backdated_store

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 30)
PNR_PLAIN = pnr(date(2010, 3, 4))  # VS-1: closed 2021-06-01, due
PNR_SAMPLE = pnr(date(2011, 7, 15))  # VS-15: research sample


def _raw_states(pg_url: str, schema: str, case_ref: str) -> list[bytes]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT state FROM {}.{} WHERE originator_id = %s").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            ),
            [case_id_for("1280", case_ref)],
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def _without_age(doc: Any) -> Any:
    """The report without its age splits: a gallrad child's birth date is gone, so after a
    rebuild it counts in ``okand`` (docs/security.md "Data keys and gallring", what changes)."""
    if isinstance(doc, dict):
        return {
            k: _without_age(v)
            for k, v in doc.items()
            if k not in ("aldersgrupp", "kon_aldersgrupp", "fodelsedatum")
        }
    if isinstance(doc, list):
        return [
            _without_age(v)
            for v in doc
            if not (isinstance(v, dict) and "aldersgrupp" in str(v.get("grupp", "")))
        ]
    return doc


def _stats(env: dict[str, str]) -> bytes:
    view = open_view(env)
    docs = [
        REPORTS["kf-statistik"].build(view, "1280", parse_period("quarter", "2020Q2")),
        REPORTS["utredningstider"].build(view, "1280", parse_period("half", "2020H1")),
        REPORTS["verkstallighetstider"].build(view, "1280", parse_period("quarter", "2012Q1")),
    ]
    return b"".join(dumps(_without_age(d)) for d in docs)


def test_gallring_run_shreds_what_is_due_and_nothing_else(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    backdated_store(store)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    rebuild(env)
    stats_before = _stats(env)
    assert verify_store(store).ok

    # dry run: a plan, nothing destroyed
    dry = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW)
    assert dry.destroyed == 0 and dry.plan.targets
    targets = {(t.case_ref, t.bucket) for t in dry.plan.targets}
    assert ("VS-1", "identitet") in targets and ("VS-1", "personakt") in targets
    assert not any(ref in ("VS-15", "VS-O") for ref, _b in targets)  # sample, open case
    # the placed child: the placement key and the identity are kept; its personakt key goes
    assert ("VS-P", "placering") not in targets and ("VS-P", "identitet") not in targets
    assert ("VS-P", "identitet", "the case still holds entries to keep or not yet due") in (
        dry.plan.held
    )
    assert vs1_readable(store)

    with pytest.raises(GallringError):
        run(store, "1280", " ", as_of=AS_OF, now=NOW, apply=True)

    done = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True)
    assert done.destroyed == len(dry.plan.targets) == done.events
    # idempotent: a second run destroys and records nothing
    again = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True)
    assert (again.destroyed, again.events, again.plan.targets) == (0, 0, [])

    # every destroyed key is recorded on its case with the rule and the beslut
    recorded = [e for e in store.case_events(case_id_for("1280", "VS-1"))
                if e.type == "gallring_verkstalld"]  # fmt: skip
    # (its utredning entries sealed nothing: ids and dates only, no key was made for them)
    assert {e.data["klass"] for e in recorded} == {"identitet", "personakt"}
    assert all(e.data["gallringsbeslut"] == "GN 2026-11 §42" for e in recorded)
    assert all(e.data["regel"].startswith("G-PERSONAKT") for e in recorded)

    # the chains still verify
    report = verify_store(store)
    assert report.ok, [f.line() for f in report.findings]

    # the store reads the shredded case as gallrad; the sample and the placement are intact
    vs1 = store.case_events(case_id_for("1280", "VS-1"))
    assert (
        vs1[0].data["barn"]["identitet"] == SHREDDED and "personnummer" not in vs1[0].data["barn"]
    )
    assert next(e for e in vs1 if e.type == "arende_avslutat").data["orsak"] == SHREDDED
    sample = store.case_events(case_id_for("1280", "VS-15"))
    assert sample[0].data["barn"]["personnummer"] == PNR_SAMPLE
    placed = store.case_events(case_id_for("1280", "VS-P"))
    assert next(e for e in placed if e.type == "beslut_avslutat").data["orsak"] == "hemflytt"
    assert placed[0].data["barn"]["personnummer"]  # the placed child's identity is kept

    # raw SQL: the rows hold no personnummer, and the data keys that sealed them are gone
    keyring = Keyring(CIPHER_KEY)
    for state in _raw_states(pg_url, schema, "VS-1"):
        assert PNR_PLAIN.encode() not in keyring.decrypt(state)
    with psycopg.connect(pg_url) as conn:
        left = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{} WHERE case_id = %s AND wrapped IS NOT NULL")
            .format(sql.Identifier(schema), sql.Identifier(TABLE)),
            [case_id_for("1280", "VS-1")],
        ).fetchone()  # fmt: skip
    assert left == (0,)
    # a fresh process (no key cache) cannot open them either
    fresh = CaseStore(env=env)
    try:
        assert fresh.case_events(case_id_for("1280", "VS-1"))[0].data["barn"]["identitet"] == (
            SHREDDED
        )
    finally:
        fresh.close()

    # views rebuilt: the case's timeline shows gallrad content; past statistics are unchanged
    rebuild(env)
    timeline = case_timeline(open_view(env), "1280", "VS-1")
    text = orjson.dumps(timeline).decode()
    assert PNR_PLAIN not in text and "klar" not in text and SHREDDED in text
    assert _stats(env) == stats_before

    # the plan shows nothing due any more
    assert plan_run(store, "1280", AS_OF).targets == []


def vs1_readable(store: CaseStore) -> bool:
    first = store.case_events(case_id_for("1280", "VS-1"))[0]
    return bool(first.data["barn"]["personnummer"] == PNR_PLAIN)


def test_entries_written_before_data_keys_are_counted_not_shredded(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    """A store recorded before this release holds identity and free text in clear (under the
    kommun key only): the run cannot shred them and says how many are due."""
    store.__dict__["data_keys"] = None  # the store as it wrote before data keys existed
    backdated_store(store)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    upgraded = CaseStore(env=env)
    try:
        plan = plan_run(upgraded, "1280", AS_OF)
        assert plan.targets == [] and plan.unsealed_due > 0
        done = run(upgraded, "1280", "GN §1", as_of=AS_OF, now=NOW, apply=True)
        assert (done.destroyed, done.events) == (0, 0)
        first = upgraded.case_events(case_id_for("1280", "VS-1"))[0]
        assert first.data["barn"]["personnummer"] == PNR_PLAIN  # still there: not gallrad
        assert verify_store(upgraded).ok
    finally:
        upgraded.close()
