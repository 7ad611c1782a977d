"""`barnflow gallring plan` on a backdated store (real PostgreSQL): cases spanning many years,
the research sample and placements kept, the rest due on the dates of docs/law.md §10."""

from __future__ import annotations

from datetime import date

from domain.retention import PERSONAKT, PLACERING, UTREDNING
from infra.persistence.store import CaseStore
from projections.retention import kommun_events, plan_rows
from tests.domain.test_retention import Case, utredd_case

KEY = b"p" * 32
AS_OF = date(2026, 11, 30)


def backdated_store(store: CaseStore) -> None:
    """Three children of kommun 1280 and one of Göteborg, recorded as history (lagrum=False)."""
    plain = utredd_case(born=date(2010, 3, 4))  # closed 2021-06-01 -> due 2026-06-01
    sample = utredd_case(born=date(2011, 7, 15), ref="VS-15")  # born on the 15th -> kept
    placed = Case(ref="VS-P", born=date(2005, 2, 2)).anmalan(date(2012, 1, 10))
    placed.add("skyddsbedomning_gjord", date(2012, 1, 10), anmalan_id="a1",
               omedelbart_skydd=False)  # fmt: skip
    placed.add("forhandsbedomning_beslutad", date(2012, 1, 11), anmalan_id="a1",
               beslut="inleda_utredning")  # fmt: skip
    placed.add("utredning_inledd", date(2012, 1, 11), utredning_id="u1", grund="anmalan",
               anmalan_id="a1")  # fmt: skip
    placed.add("utredning_avslutad", date(2012, 2, 28), utredning_id="u1", utfall="insats")
    placed.add("beslut_fattat", date(2012, 3, 1), beslut_id="b9", lagrum="SoL 4:1",
               beslutstyp="bistand", insats="familjehem", gynnande=True,
               delegat={"id": "u1", "roll": "socialsekreterare"})  # fmt: skip
    placed.add("vardplan_upprattad", date(2012, 3, 2))
    placed.add("beslut_avslutat", date(2014, 3, 3), beslut_id="b9", orsak="hemflytt")
    placed.add("arende_avslutat", date(2014, 4, 1), orsak="klar")
    open_case = Case(ref="VS-O", born=date(2015, 9, 9)).anmalan(date(2016, 5, 1))
    for case in (plain, sample, placed, open_case):
        for ev in case.events:
            store.record(ev, lagrum=False)


def test_plan_of_a_backdated_store(store: CaseStore) -> None:
    backdated_store(store)
    rows = plan_rows(kommun_events(store, "1280"), as_of=AS_OF, pseudonym_key=KEY)
    got = {(r["case_ref"], r["klass"]): (r["status"], r["due"], r["rule"]) for r in rows}
    assert got[("VS-1", UTREDNING)] == ("gallras", "2026-06-01", "G-PERSONAKT,G-UTREDNING-OB")
    assert got[("VS-1", PERSONAKT)] == ("gallras", "2026-06-01", "G-PERSONAKT")
    assert got[("VS-15", UTREDNING)] == ("bevaras", None, "G-FORSKNING")
    assert got[("VS-15", PERSONAKT)] == ("bevaras", None, "G-FORSKNING")
    assert got[("VS-P", PLACERING)] == ("bevaras", None, "G-PLACERING")
    # the rest of the placed child's akt: closed 2014-04-01, due 2019-04-01 under the old SoL
    assert got[("VS-P", UTREDNING)] == ("gallras", "2019-04-01", "G-PERSONAKT,G-UTREDNING-OB")
    assert got[("VS-O", PERSONAKT)][0:2] == ("vantar", None)  # open case: register data remain
    # the persons are pseudonyms, never the personnummer
    assert all(len(r["person"]) == 24 and not r["person"].isdigit() for r in rows)
    due = plan_rows(kommun_events(store, "1280"), as_of=AS_OF, pseudonym_key=KEY, due_only=True)
    assert {(r["case_ref"], r["klass"]) for r in due} == {
        ("VS-1", UTREDNING),
        ("VS-1", PERSONAKT),
        ("VS-P", UTREDNING),
        ("VS-P", PERSONAKT),
    }
    assert got[("VS-P", PERSONAKT)][1] == "2019-04-01"
