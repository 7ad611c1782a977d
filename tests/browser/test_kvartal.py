"""The nämnd's quarterly report as a reader gets it (issue #17 item 5): four hand-checked golden
scenarios of kommun 1280 (EVB, utredningar, placeringar, barnchecklista) are imported, then
``barnflow report kvartal`` writes the HTML page and its PDF. The page is opened in Debian's
Chromium (playwright) and screenshot, the PDF is rendered to PNG by poppler's ``pdftoppm``; both
PNGs stay under the test's tmp dir (and were looked at; docs/img/ holds one of each).

What a reader would notice is asserted: the header's kommun, period, as-of and known-at; every
section heading with a drawn chart; and table figures equal to what ``barnflow report NAME``
prints for the same quarter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from tests.browser.test_timeline_and_web_ui import CHROMIUM, CHROMIUM_ARGS
from tests.golden.test_golden import LOADED_AT
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
GOLDEN = Path(__file__).parents[1] / "golden"
SCENARIOS = ("evb", "utredningar", "placeringar", "barncheck")
KOMMUN = "1280"
QUARTER = "2026Q2"
HEADINGS = [
    "Ej verkställda gynnande beslut (IVO)",
    "Utredningstider",
    "Förhandsbedömning i tid",
    "Verkställighetstider",
    "Barnets röst",
    "Placerade barn: bestånd och flöde",
    "Klagomål och lex Sarah",
]


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _need(binary: str) -> None:
    if shutil.which(binary) is None and not Path(binary).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is missing (apt-get install chromium poppler-utils)")
        pytest.skip(f"{binary} is not installed")


@pytest.fixture
def loaded(store: CaseStore, pg_url: str, schema: str, tmp_path: Path) -> dict[str, str]:
    """The four scenarios in one store, and the CLI's environment for it."""
    lines = [
        ln
        for s in SCENARIOS
        for ln in (GOLDEN / f"{s}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert import_lines(store, lines, now=LOADED_AT).appended == len(lines)
    return _cli_env(tmp_path, pg_url, schema)


@pytest.fixture
def page() -> Iterator[Page]:
    _need(str(CHROMIUM))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 900, "height": 1200})
        finally:
            browser.close()


def _document(env: dict[str, str], name: str) -> dict[str, Any]:
    run = _barnflow(
        "report", name, "--kommun", KOMMUN, "--quarter", QUARTER, "--format", "document", env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def _table(page: Page, section: str, index: int = 0) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f"section#{section} table >> nth={index} >> tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    return rows


def test_the_quarterly_page_in_a_browser_and_as_pdf_shows_the_reports_figures(
    loaded: dict[str, str], page: Page, tmp_path: Path
) -> None:
    _need("pdftoppm")
    html, pdf = tmp_path / "kvartal.html", tmp_path / "kvartal.pdf"
    run = _barnflow(
        "report", "kvartal", "--kommun", KOMMUN, "--quarter", QUARTER, "--catch-up",
        "--output", str(html), "--pdf", str(pdf), env=loaded,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"wrote {html} ({len(HEADINGS)} sections, {QUARTER})" in run.stdout

    text = html.read_text(encoding="utf-8")
    # self-contained: nothing to fetch (every chart a data URI), no script
    assert "http://" not in text and "https://" not in text and "<script" not in text
    # aggregates only: no case of the scenarios is named on a page for the nämnd
    assert not any(ref in text for ref in ("EVB-E1", "UT-1", "PL-1", "BC-1"))

    page.goto(html.as_uri())
    shot = tmp_path / "kvartal-browser.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    header = page.inner_text("header")
    assert "Kommun\n1280" in header or "Kommun\t1280" in header or "1280" in header
    for field in ("Kommun", "Period", "Per datum", "Känt per"):
        assert field in header
    assert "2026Q2 (2026-04-01 – 2026-06-30)" in header
    assert "2026-06-30" in header
    assert page.locator("section h2").all_inner_texts() == HEADINGS
    # every chart is drawn: an image the browser decoded, with a size
    widths = page.eval_on_selector_all(
        "section img.chart", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert len(widths) == len(HEADINGS) and all(w > 200 for w in widths)

    # the figures under the charts are the reports' own
    evb = _document(loaded, "evb")["summary"]
    [q2] = [r for r in _table(page, "evb") if r[0] == QUARTER]
    assert q2[1:4] == [str(evb["alla"][k]) for k in ("antal", "ny", "aterrapport")]
    assert q2[6:8] == [str(evb["kon"][k]["antal"]) for k in ("flicka", "pojke")]
    evb_rows = [r[0] for r in _table(page, "evb")]
    assert evb_rows == [
        "2024Q3",
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
        "2026Q1",
        QUARTER,
    ]

    utr = _document(loaded, "utredningstider")["utredningar"]["alla"]
    alla = _table(page, "utredningstider")[0]
    assert alla[:3] == ["Alla", str(utr["antal"]), str(utr["over_4_man"])]
    assert utr["antal"] > 0, "the scenario closes utredningar in the quarter"

    placed = _document(loaded, "placerade-barn")
    stock = _table(page, "placeringar", 0)[0]
    assert stock[:2] == ["Alla", str(placed["bestand"]["alla"]["antal"])]
    flow = _table(page, "placeringar", 1)[0]
    assert flow[1:3] == [str(placed["flode"]["alla"][k]) for k in ("nya", "avslutade")]

    check = _document(loaded, "barnchecklista")["per_enhet"]
    units = _table(page, "barnets-rost", 0)
    assert [u[0] for u in units] == [u["enhet"] or "okänd enhet" for u in check]
    assert [u[1] for u in units] == [str(u["antal_beslut"]) for u in check]

    # the PDF: A4 pages rendered to PNG, with the header and the headings a reader sees
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "pdf")], check=True)
    pngs = sorted(tmp_path.glob("pdf-*.png"))
    assert len(pngs) >= 2 and all(p.stat().st_size > 5_000 for p in pngs)
    words = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Kvartalsrapport till nämnden" in words and "2026-06-30" in words
    for heading in HEADINGS:
        assert heading in words
