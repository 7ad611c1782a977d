"""One ``kvartal`` for the frister and the EVB report (issue #13, deliverable 5).

An ``evb_rapporterad`` whose quarter was written "Q3 2026" used to meet C4 in the frister (which
normalised it one way) while the EVB report showed the row ``rapporterad: false`` (it normalised
another way). Both now read the quarter through ``domain.events.parse_kvartal``: a report sent
today is stored as ``2026Q3`` (the import maps the spelling), and one stored before with the old
spelling reads the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

import orjson
import pytest

from domain.calendar import STOCKHOLM
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.importer import ImportRejected, import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS, ReportOptions
from projections.runner import caught_up, rebuild
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, PNR_GIRL, line

LOADED = datetime(2027, 1, 10, 12, 0, tzinfo=STOCKHOLM)


def _lines(ref: str, pnr: str, kvartal: str) -> list[dict[str, Any]]:
    """A kontaktperson beslut of 2026-05-10 never verkställd (report duty from 2026-08-11), its
    Q3 individrapport sent on 2026-10-20 with ``kvartal`` spelled as given."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=STOCKHOLM)

    beslut = {
        "beslut_id": "B1",
        "lagrum": "SoL 11 kap. 1 §",
        "beslutstyp": "insats",
        "insats": "kontaktperson",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "sektionschef"},
    }
    rows = [
        (
            date(2026, 5, 4),
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": pnr, "kon": "flicka"},
                "anmalare_kategori": "skola",
            },
        ),
        (
            date(2026, 5, 4),
            "forhandsbedomning_beslutad",
            {"anmalan_id": "A1", "beslut": "inleda_utredning"},
        ),
        (date(2026, 5, 4), "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan"}),
        (date(2026, 5, 10), "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"}),
        (date(2026, 5, 10), "beslut_fattat", beslut),
        (
            date(2026, 10, 20),
            "evb_rapporterad",
            {"beslut_id": "B1", "kvartal": kvartal, "rapport": "individrapport"},
        ),
    ]
    return [
        line(t, d, at=at(day), key=f"{ref}-{i}", case_ref=ref) for i, (day, t, d) in enumerate(rows)
    ]


def test_a_q3_2026_report_meets_c4_and_shows_rapporterad_in_the_evb_report(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    # KQ-1 comes through the import, which maps "Q3 2026" to 2026Q3.
    imported = _lines("KQ-1", PNR_GIRL, "Q3 2026")
    summary = import_lines(store, [orjson.dumps(x).decode() for x in imported], now=LOADED)
    assert summary.appended == 6
    kq1 = store.case_events(case_id_for("1280", "KQ-1"))
    assert [e.data["kvartal"] for e in kq1 if e.type == "evb_rapporterad"] == ["2026Q3"]
    # KQ-2 holds the old spelling in the store, as events recorded before the field was canonical.
    legacy = [parse_event(x) for x in _lines("KQ-2", PNR_BOY, "2026Q3")]
    legacy[-1] = replace(legacy[-1], data={**legacy[-1].data, "kvartal": "Q3 2026"})
    for ev in legacy:
        store.record(ev, now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    with caught_up(env):
        pass
    rebuild(env)
    evb = REPORTS["evb"].build(env, "1280", parse_period("quarter", "2026Q3"))
    rows = {r["case_ref"]: r for r in evb["rows"]}
    assert set(rows) == {"KQ-1", "KQ-2"}
    assert all(r["rapporterad"] is True for r in rows.values()), rows
    frister = REPORTS["frister"].build(
        env,
        "1280",
        parse_period("as_of", "2026-12-31"),
        options=ReportOptions(include_closed=True),
    )
    c4 = {r["case_ref"]: r for r in frister["rows"] if r["key"] == "C4:B1:2026Q3"}
    assert set(c4) == {"KQ-1", "KQ-2"}
    assert all(r["status"] == "met" and r["fulfilled_date"] == "2026-10-20" for r in c4.values())


def test_import_maps_legacy_spellings_and_reports_every_unknown_one_by_line(
    store: CaseStore,
) -> None:
    good = _lines("KQ-3", PNR_GIRL, "2026-q3")
    dom = line(
        "lvu_dom",
        {"utfall": "Avslaget", "beslut_id": "L1"},
        at=datetime.combine(date(2026, 5, 12), time(10), tzinfo=STOCKHOLM),
        key="KQ-3-dom",
        case_ref="KQ-3",
    )
    bad_kvartal = {**good[-1], "data": {**good[-1]["data"], "kvartal": "hösten 2026"}}
    bad_utfall = {**dom, "data": {**dom["data"], "utfall": "delvis bifall"}}
    text = [orjson.dumps(x).decode() for x in (*good[:-1], bad_kvartal, bad_utfall)]
    with pytest.raises(ImportRejected) as err:
        import_lines(store, text, now=LOADED)
    assert err.value.lines == [
        (6, err.value.lines[0][1]),
        (7, err.value.lines[1][1]),
    ]
    assert "data.kvartal" in err.value.lines[0][1] and "hösten 2026" in err.value.lines[0][1]
    assert "data.utfall" in err.value.lines[1][1] and "delvis bifall" in err.value.lines[1][1]
    assert str(err.value).splitlines()[1].startswith("line 7: data.utfall")
    assert store.max_position() == 0
    parsed = [parse_event(orjson.loads(t)) for t in text[:-2]]
    assert [e.data.get("utfall") for e in parsed if e.type == "utredning_avslutad"] == ["insats"]
    assert parse_event(dom).data["utfall"] == "avslag"
