"""Gallring reaches the frozen EVB quarters (issue 16, the snapshot gap): the rows of a person
whose identity a run destroyed are anonymised in every frozen version (IVO pseudo-id, reason and
offer), the quarter's counts stay as frozen, the digest at freezing is kept beside the new one,
and the table still refuses any other change (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from psycopg import sql

from domain.sealing import SHREDDED
from infra.ops.gallring import run
from infra.persistence.snapshots import freeze, load
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.evb_snapshot import kf_from_rows
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import rebuild
from projections.view import open_view
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY
from tests.domain.test_retention import Case

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 30)
Q = parse_period("quarter", "2020Q3")
REASON = "ingen familjehemsplats i närområdet"


def waiting_case(ref: str, born: date) -> Case:
    """A gynnande beslut 2020-05-02 not verkställt within three months (an EVB row in 2020Q3),
    verkställd 2020-10-01; the case closed 2021-06-01."""
    c = Case(ref=ref, born=born).anmalan(date(2020, 1, 10))
    c.add("skyddsbedomning_gjord", date(2020, 1, 10), anmalan_id="a1", omedelbart_skydd=False)
    c.add("forhandsbedomning_beslutad", date(2020, 1, 20), anmalan_id="a1",
          beslut="inleda_utredning")  # fmt: skip
    c.add("utredning_inledd", date(2020, 1, 20), utredning_id="u1", grund="anmalan",
          anmalan_id="a1")  # fmt: skip
    c.add("utredning_avslutad", date(2020, 5, 1), utredning_id="u1", utfall="insats")
    c.add("beslut_fattat", date(2020, 5, 2), beslut_id="b1", lagrum="SoL 4:1",
          beslutstyp="bistand", insats="oppenvard", gynnande=True,
          delegat={"id": "u1", "roll": "socialsekreterare"})  # fmt: skip
    c.add("evb_skal_angivet", date(2020, 8, 10), beslut_id="b1", skal=REASON,
          erbjudet="stödsamtal")  # fmt: skip
    c.add("insats_verkstalld", date(2020, 10, 1), beslut_id="b1")
    c.add("beslut_avslutat", date(2021, 5, 1), beslut_id="b1", orsak="klar")
    c.add("arende_avslutat", date(2021, 6, 1), orsak="klar")
    return c


def test_gallring_anonymises_a_frozen_quarters_rows_and_keeps_its_counts(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    for case in (waiting_case("VS-G", date(2010, 3, 4)), waiting_case("VS-K", date(2011, 7, 15))):
        for ev in case.events:  # VS-G is due; VS-K (born on the 15th) is the research sample
            store.record(ev, lagrum=False)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    rebuild(env)
    view = open_view(env)
    try:
        doc = REPORTS["evb"].build(view, "1280", Q)
        assert {r["case_ref"] for r in doc["rows"]} == {"VS-G", "VS-K"}, doc["rows"]
        frozen = freeze(store, kommun="1280", kvartal=Q.label, position=view.position(), doc=doc,
                        seal=view.seal)  # fmt: skip
        run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
            pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
        after = load(store, "1280", Q.label, view.unseal)
    finally:
        view.datastore.close()

    rows = {r["case_ref"]: r for r in after.doc["rows"]}
    assert rows["VS-G"]["ivo_id"] is None
    assert rows["VS-G"]["skal"] == SHREDDED and rows["VS-G"]["erbjudet"] == SHREDDED
    # the research sample's row is untouched; the counts of the quarter are as frozen
    before_rows = {r["case_ref"]: r for r in doc["rows"]}
    assert rows["VS-K"] == before_rows["VS-K"] and rows["VS-K"]["skal"] == REASON
    assert kf_from_rows(Q, after.doc["rows"]) == kf_from_rows(Q, doc["rows"])
    assert after.version == frozen.version and after.digest != frozen.digest

    with psycopg.connect(pg_url) as conn:
        t = sql.SQL("{}.evb_snapshot").format(sql.Identifier(schema))
        row = conn.execute(
            sql.SQL("SELECT frozen_digest, gallringsbeslut, payload FROM {}").format(t)
        ).fetchone()
        assert row is not None and row[0] == frozen.digest and row[1] == "GN 2026-11 §42"
        assert REASON.encode() not in bytes(row[2])  # sealed with the store's cipher anyway
        # outside a gallring run the table is still append-only
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(sql.SQL("UPDATE {} SET reason = 'x'").format(t))
        conn.rollback()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(sql.SQL("DELETE FROM {}").format(t))

    # idempotent: a second run changes nothing
    again = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
                pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
    assert again.destroyed == 0
    view = open_view(env)
    try:
        assert load(store, "1280", Q.label, view.unseal).digest == after.digest
    finally:
        view.datastore.close()
