"""``csv-excel``: the cells a Swedish Excel reads as numbers, dates and text (decimal comma,
ISO dates, ja/nej, formula-looking text quoted), and the metadata every CSV and table leads with."""

from __future__ import annotations

from infra.cli.formats import render
from projections.report_csv import report_meta, to_csv

DOC = {
    "report": "utredningstider",
    "title": "Utredningstider",
    "kommun": "1280",
    "period": {"kind": "half", "label": "2026H1", "start": "2026-01-01", "end": "2026-06-30"},
    "known_at": "2026-07-02T09:00:00+02:00",
}
ROWS = [
    {"grupp": "flicka", "andel": 0.25, "antal": 3, "klar": True, "datum": "2026-03-31"},
    {"grupp": '=HYPERLINK("x")', "andel": None, "antal": 0, "klar": False, "datum": None},
]
COLUMNS = ("grupp", "andel", "antal", "klar", "datum")


def test_csv_excel_is_bom_semicolon_decimal_comma_with_the_metadata_on_every_row() -> None:
    text = to_csv(ROWS, COLUMNS, report_meta(DOC), excel=True)
    assert text.startswith("\ufeff")
    lines = text[1:].split("\r\n")
    assert lines == [
        "rapport;kommun;period;per_datum;kant_per;grupp;andel;antal;klar;datum",
        "utredningstider;1280;2026H1;2026-06-30;2026-07-02T09:00:00+02:00;"
        "flicka;0,25;3;ja;2026-03-31",
        "utredningstider;1280;2026H1;2026-06-30;2026-07-02T09:00:00+02:00;"
        '"\'=HYPERLINK(""x"")";;0;nej;',  # the quote in the cell doubled (RFC 4180)
    ]


def test_plain_csv_keeps_the_decimal_point_and_no_bom() -> None:
    meta = report_meta({**DOC, "known_at": None})
    lines = to_csv(ROWS[:1], COLUMNS, meta).split("\n")
    assert lines == [
        "rapport,kommun,period,per_datum,grupp,andel,antal,klar,datum",
        "utredningstider,1280,2026H1,2026-06-30,flicka,0.25,3,True,2026-03-31",
    ]


def test_the_table_names_report_kommun_period_as_of_and_known_at_above_it() -> None:
    out = render(ROWS[:1], "table", COLUMNS, report_meta(DOC)).split("\n")
    assert out[:6] == [
        "Rapport: Utredningstider",
        "Kommun: 1280",
        "Period: 2026H1",
        "Per datum: 2026-06-30",
        "Känt per: 2026-07-02T09:00:00+02:00",
        "",
    ]
    assert out[6].split() == list(COLUMNS)
