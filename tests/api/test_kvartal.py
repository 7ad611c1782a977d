"""Over HTTP: ``GET /reports/kvartal`` (the nämnd's quarterly page as HTML or PDF) and
``GET /reports/{name}?snapshot=`` (evb, individrapport and kf-statistik from a frozen quarter).

The page's figures are the reports' own: the current quarter's EVB count in its table equals the
``evb`` report's over the same views. A unit-bound caller, a malformed quarter and an as-of date
outside the quarter are refused with problem+json.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from domain.calendar import legal_date
from infra.persistence.snapshots import freeze
from infra.persistence.store import CaseStore
from projections.kvartal.sections import SECTIONS
from projections.periods import parse_period, period_containing
from projections.reports import REPORTS
from projections.runner import ReportsRunner
from tests.api.conftest import Token
from tests.factories import stockholm_now


class _Cells(HTMLParser):
    """The text of every table cell, row by row, of the section with the given id."""

    def __init__(self, section: str) -> None:
        super().__init__()
        self.section, self.inside, self.rows = section, False, []  # type: ignore[var-annotated]
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.inside = dict(attrs).get("id") == self.section
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _quarter() -> str:
    return period_containing("quarter", legal_date(stockholm_now()))


async def test_the_quarterly_page_as_html_and_pdf_with_the_evb_reports_count(
    http: httpx.AsyncClient, token: Token
) -> None:
    q = _quarter()
    r = await http.get("/reports/kvartal", params={"quarter": q}, headers=token("auditor"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == f'inline; filename="kvartal-1280-{q}.html"'
    assert int(r.headers["Barnflow-Views-Lag"]) >= 0
    page = r.text
    period = parse_period("quarter", q)
    assert "<dt>Kommun</dt><dd>1280</dd>" in page
    assert f"<dt>Per datum</dt><dd>{period.end.isoformat()}</dd>" in page
    assert len(re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,', page)) == len(
        SECTIONS
    )

    evb = await http.get("/reports/evb", params={"quarter": q}, headers=token("auditor"))
    cells = _Cells("evb")
    cells.feed(page)
    [row] = [row for row in cells.rows if row and row[0] == q]
    assert row[1] == str(evb.json()["summary"]["alla"]["antal"])

    cut = await http.get(
        "/reports/kvartal",
        params={
            "quarter": "2026Q3",
            "as_of": "2026-08-15",
            "known_at": "2026-10-05T08:00:00+02:00",
        },
        headers=token("auditor"),
    )
    assert cut.status_code == 200, cut.text
    assert "<dt>Period</dt><dd>2026Q3 (2026-07-01 – 2026-08-15)</dd>" in cut.text
    assert "<dt>Per datum</dt><dd>2026-08-15</dd>" in cut.text
    assert "<dt>Känt per</dt><dd>2026-10-05T08:00:00+02:00</dd>" in cut.text
    assert "--quarter 2026Q3 --known-at 2026-10-05T08:00:00+02:00 (t.o.m. 2026-08-15)" in cut.text

    pdf = await http.get(
        "/reports/kvartal", params={"quarter": q, "format": "pdf"}, headers=token("auditor")
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


async def test_the_quarterly_page_refuses_a_unit_bound_caller_and_bad_periods(
    http: httpx.AsyncClient, token: Token
) -> None:
    unit = await http.get("/reports/kvartal", headers=token("handlaggare", units=("barn-nord",)))
    assert unit.status_code == 403
    assert unit.headers["content-type"] == "application/problem+json"
    bad = await http.get("/reports/kvartal", params={"quarter": "hösten"}, headers=token())
    assert bad.status_code == 422 and "quarter" in bad.json()["detail"]
    outside = await http.get(
        "/reports/kvartal", params={"quarter": "2026Q3", "as_of": "2026-10-01"}, headers=token()
    )
    assert outside.status_code == 422
    assert outside.json()["detail"].startswith("as-of: 2026-10-01 is not in 2026Q3")


async def test_evb_individrapport_and_kf_statistik_from_a_frozen_quarter(
    http: httpx.AsyncClient, token: Token, api_store: CaseStore, reports: ReportsRunner
) -> None:
    kommun, q = "0180", "2026Q1"
    doc = REPORTS["evb"].build(reports.view, kommun, parse_period("quarter", q))
    snap = freeze(api_store, kommun=kommun, kvartal=q, position=7, doc=doc, seal=reports.view.seal)
    for name in ("evb", "individrapport", "kf-statistik"):
        r = await http.get(
            f"/reports/{name}",
            params={"quarter": q, "snapshot": "latest"},
            headers=token("auditor", kommun=kommun),
        )
        assert r.status_code == 200, r.text
        assert r.json()["snapshot"] == {
            "version": 1,
            "position": 7,
            "digest": snap.digest,
            "reason": None,
        }
    one = await http.get(
        "/reports/evb", params={"quarter": q, "snapshot": "1"}, headers=token(kommun=kommun)
    )
    assert one.json()["rows"] == doc["rows"]
    missing = await http.get(
        "/reports/evb", params={"quarter": q, "snapshot": "2"}, headers=token(kommun=kommun)
    )
    assert missing.status_code == 404 and "version 2" in missing.json()["detail"]
    other = await http.get(
        "/reports/utredningstider", params={"snapshot": "1"}, headers=token(kommun=kommun)
    )
    assert other.status_code == 422 and other.json()["field"] == "snapshot"
    both = await http.get(
        "/reports/evb",
        params={"quarter": q, "snapshot": "1", "known_at": "2026-04-01T00:00:00+02:00"},
        headers=token(kommun=kommun),
    )
    assert both.status_code == 422
