"""Meaningful fields have one canonical form (issue #13, deliverable 5).

``kvartal`` and ``lvu_dom.utfall`` are parsed once, in ``domain.events``: every entry point
(API, import, workflow validator) stores the canonical form, an unknown spelling is refused naming
the field in Swedish and English, and events stored before with an old spelling are read through
the same parser by the engine, so they fold and report as they did.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from domain.errors import EventValidationError
from domain.events import (
    LVU_UTFALL,
    lvu_care_ordered,
    parse_event,
    parse_kvartal,
    parse_lvu_utfall,
    stored_kvartal,
)
from domain.frister import MET, compute_frister
from projections.periods import PeriodError, parse_period
from tests.factories import PNR_GIRL
from tests.factories import line as _line

AT = datetime.fromisoformat("2026-10-20T10:00:00+02:00")


def line(
    etype: str, data: dict[str, Any], *, at: str | None = None, key: str = "k"
) -> dict[str, Any]:
    return _line(etype, data, at=datetime.fromisoformat(at) if at else AT, key=key)


@pytest.mark.parametrize(
    "spelling",
    [
        "2026Q3",
        "2026-Q3",
        "2026 Q3",
        "2026q3",
        "Q3 2026",
        "q3 2026",
        "Q3-2026",
        "Q32026",
        " 2026Q3 ",
    ],
)
def test_every_accepted_kvartal_spelling_becomes_2026Q3(spelling: str) -> None:
    assert parse_kvartal(spelling) == "2026Q3"
    ev = parse_event(
        line("evb_rapporterad", {"beslut_id": "b1", "kvartal": spelling, "rapport": "aterrapport"})
    )
    assert ev.data["kvartal"] == "2026Q3"


@pytest.mark.parametrize(
    "spelling", ["2026Q5", "2026Q0", "Q3", "2026", "3Q2026", "tredje kvartalet", "2026-07", "26Q3"]
)
def test_an_unknown_kvartal_spelling_is_refused_naming_the_field_in_both_languages(
    spelling: str,
) -> None:
    with pytest.raises(EventValidationError) as err:
        parse_event(
            line(
                "evb_rapporterad",
                {"beslut_id": "b1", "kvartal": spelling, "rapport": "aterrapport"},
            )
        )
    assert err.value.field == "data.kvartal"
    assert "okänt kvartal" in err.value.message and "unknown quarter" in err.value.message
    assert stored_kvartal(spelling) is None


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("bifall", "bifall"),
        ("Bifall", "bifall"),
        ("bifallet", "bifall"),
        ("AVSLAG", "avslag"),
        ("avslaget", "avslag"),
        ("avslagen", "avslag"),
        ("lamnad_utan_bifall", "avslag"),
        ("avvisad", "avvisat"),
        ("avvisat", "avvisat"),
        ("avskrivet", "avskrivet"),
    ],
)
def test_lvu_dom_utfall_spellings_become_canonical(spelling: str, canonical: str) -> None:
    assert parse_lvu_utfall(spelling) == canonical
    ev = parse_event(line("lvu_dom", {"utfall": spelling, "beslut_id": "L1"}))
    assert ev.data["utfall"] == canonical in LVU_UTFALL
    assert lvu_care_ordered(spelling) is (canonical == "bifall")


@pytest.mark.parametrize("spelling", ["vard_enligt_lvu", "delvis", "ja", "bifall!"])
def test_an_unknown_lvu_dom_utfall_is_refused_naming_the_field(spelling: str) -> None:
    with pytest.raises(EventValidationError) as err:
        parse_event(line("lvu_dom", {"utfall": spelling, "beslut_id": "L1"}))
    assert err.value.field == "data.utfall"
    assert "okänt utfall" in err.value.message and "unknown outcome" in err.value.message


def test_a_stored_unknown_lvu_dom_utfall_keeps_its_old_meaning() -> None:
    """Before the field was canonical, anything that was not a known refusal meant care ordered;
    a stored event with such a spelling folds exactly as it did."""
    assert lvu_care_ordered("vard_enligt_lvu") is True
    assert lvu_care_ordered("") is True


def _evb_case(kvartal: Any) -> list[Any]:
    """A kontaktperson beslut never verkställt: the report duty starts 2026-08-11 (C2 missed),
    so IVO's Q3 report (C4, due 2026-10-31) is owed; it is reported on 2026-10-20."""
    beslut = {
        "beslut_id": "B1",
        "lagrum": "SoL 4 kap. 1 §",
        "beslutstyp": "insats",
        "insats": "kontaktperson",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "sektionschef"},
    }
    opening = line(
        "anmalan_mottagen",
        {
            "anmalan_id": "A1",
            "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
            "anmalare_kategori": "skola",
        },
        at="2026-05-04T10:00:00+02:00",
        key="k0",
    )
    evs = [
        parse_event(opening),
        parse_event(line("beslut_fattat", beslut, at="2026-05-10T10:00:00+02:00", key="k1")),
    ]
    report = parse_event(
        line(
            "evb_rapporterad",
            {"beslut_id": "B1", "kvartal": "2026Q3", "rapport": "individrapport"},
            at="2026-10-20T10:00:00+02:00",
            key="k2",
        )
    )
    # as it could be stored before the field was canonical: the spelling the caller sent
    return [*evs, replace(report, data={**report.data, "kvartal": kvartal})]


@pytest.mark.parametrize("stored", ["2026Q3", "Q3 2026", "2026-Q3", "2026 q3"])
def test_c4_is_met_by_a_report_stored_with_any_accepted_spelling(stored: str) -> None:
    frister = compute_frister(_evb_case(stored), date(2026, 12, 31))
    c4 = [f for f in frister if f.rule == "C4" and f.key.endswith(":2026Q3")]
    assert len(c4) == 1
    assert c4[0].status_as_of(date(2026, 12, 31)) == MET
    assert c4[0].fulfilled_date == date(2026, 10, 20)


@pytest.mark.parametrize("spelling", ["2026Q3", "Q3 2026", "2026-q3"])
def test_a_report_quarter_is_read_by_the_same_parser(spelling: str) -> None:
    period = parse_period("quarter", spelling)
    assert (period.label, period.start, period.end) == (
        "2026Q3",
        date(2026, 7, 1),
        date(2026, 9, 30),
    )


def test_a_report_quarter_the_parser_refuses_is_a_period_error() -> None:
    with pytest.raises(PeriodError, match=r"--quarter: expected e.g. 2026Q2, got '2026Q5'"):
        parse_period("quarter", "2026Q5")


def test_legacy_values_parse_a_command_as_the_older_code_did() -> None:
    """For a workflow replaying history recorded before the fields were canonical."""
    data = {"beslut_id": "b1", "kvartal": "tredje kvartalet", "rapport": "aterrapport"}
    ev = parse_event(line("evb_rapporterad", data), legacy_values=True)
    assert ev.data["kvartal"] == "tredje kvartalet"
    dom = parse_event(line("lvu_dom", {"utfall": "Bifall", "beslut_id": "L1"}), legacy_values=True)
    assert dom.data["utfall"] == "Bifall"
