"""The quarterly page's complaints and lex Sarah section shows the figures of ``barnflow report
klagomal|lex-sarah --quarter`` (the hand-checked golden complaints, tests/golden/kvalitet.md),
never a case_ref or an ärende id."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.persistence.store import CaseStore, eventsourcing_env
from projections.kvartal.page import build_page, render_html
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import caught_up
from tests.conftest import CIPHER_KEY
from tests.golden.test_golden import _record_kvalitet

GOLDEN = Path(__file__).parents[1] / "golden" / "kvalitet.jsonl"


@pytest.fixture
def env(pg_url: str, schema: str) -> dict[str, str]:
    return eventsourcing_env(pg_url, schema, CIPHER_KEY)


def test_the_complaints_section_equals_the_reports(store: CaseStore, env: dict[str, str]) -> None:
    _record_kvalitet(store, GOLDEN.read_text(encoding="utf-8").splitlines())
    q = parse_period("quarter", "2025Q1")
    with caught_up(env) as runner:
        page = build_page(runner.view, "1280", q)
        kl = REPORTS["klagomal"].build(runner.view, "1280", q)
        ls = REPORTS["lex-sarah"].build(runner.view, "1280", q)["summary"]
    [section] = [s for s in page.sections if s.key == "klagomal"]
    complaints, lex_sarah = section.tables
    alla = next(r for r in kl["rows"] if r["avsnitt"] == "alla")
    assert alla["antal"] > 0, "the golden complaints arrive in 2025Q1"
    assert complaints.rows[0][:4] == (
        "Alla",
        str(alla["antal"]),
        str(alla["besvarade"]),
        str(alla["i_tid"]),
    )
    kategorier = [r["grupp"] for r in kl["rows"] if r["avsnitt"] == "kategori" and r["antal"]]
    assert [r[0] for r in complaints.rows[1:]] == kategorier
    assert lex_sarah.rows[0][1] == str(ls["antal"])
    assert lex_sarah.rows[2][1] == str(ls["anmalda_ivo"])
    assert complaints.source.startswith("barnflow report klagomal --kommun 1280 --quarter 2025Q1")
    html = render_html(page)
    assert "Klagomål och lex Sarah" in html
    assert "KL-6" not in html and "LS-" not in html
