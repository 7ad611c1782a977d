"""``barnflow report kvartal`` refuses bad options with one line and exit 2, before it reads
anything, and writes no file; the half-yearly reports the page uses also take ``--quarter``."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.kvartal.model import KvartalError, page_period
from projections.periods import quarter
from projections.reports import REPORTS
from tests.projections.test_cli import _barnflow
from tests.projections.test_kill import _cli_env


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "barnflow: report kvartal needs --output FILE.html"),
        (("--quarter", "hösten", "--output", "{out}"), "barnflow: --quarter: expected e.g. 2026Q2"),
        (
            ("--quarter", "2026Q3", "--as-of", "2026-10-01", "--output", "{out}"),
            "barnflow: --as-of: 2026-10-01 is not in 2026Q3 (2026-07-01–2026-09-30)",
        ),
        (("--half", "2026H1", "--output", "{out}"), "barnflow: --half: report kvartal takes"),
        (("--format", "json", "--output", "{out}"), "barnflow: report kvartal writes HTML"),
        (
            ("--known-at", "2026-10-01T08:00", "--output", "{out}"),
            "barnflow: --known-at: needs a UTC offset",
        ),
        (("--output", "{tmp}/no/such/dir/x.html"), "barnflow: {tmp}/no/such/dir/x.html: no such"),
    ],
)
def test_a_bad_option_is_one_line_exit_2_and_no_file(
    tmp_path: Path, pg_url: str, schema: str, extra: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "kvartal.html"
    args = [a.format(out=out, tmp=tmp_path) for a in extra]
    run = _barnflow(
        "report", "kvartal", "--kommun", "1280", *args, env=_cli_env(tmp_path, pg_url, schema)
    )
    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert line.startswith(message.format(tmp=tmp_path))
    assert run.stdout == ""
    assert not out.exists()


def test_output_and_pdf_belong_to_kvartal(tmp_path: Path, pg_url: str, schema: str) -> None:
    run = _barnflow(
        "report", "evb", "--kommun", "1280", "--output", str(tmp_path / "x.html"),
        env=_cli_env(tmp_path, pg_url, schema),
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "barnflow: --output: only reports arsstatistik and kvartal take it"
    )
    run = _barnflow(
        "report", "evb", "--kommun", "1280", "--pdf", str(tmp_path / "x.pdf"),
        env=_cli_env(tmp_path, pg_url, schema),
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == "barnflow: --pdf goes with report kvartal"
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "x.pdf").exists()


def test_the_page_period_is_the_quarter_or_the_quarter_so_far() -> None:
    from datetime import date

    assert page_period("2026Q3", None, date(2030, 1, 1)) == quarter("2026Q3")
    cut = page_period(None, date(2026, 8, 15), date(2030, 1, 1))
    assert (cut.label, cut.start, cut.end) == ("2026Q3", date(2026, 7, 1), date(2026, 8, 15))
    assert page_period(None, None, date(2026, 11, 2)) == quarter("2026Q4")
    with pytest.raises(KvartalError, match="not in 2026Q3"):
        page_period("2026Q3", date(2026, 6, 30), date(2030, 1, 1))


def test_the_half_yearly_reports_of_the_page_take_a_quarter_too() -> None:
    takes = {name: spec.periods for name, spec in REPORTS.items() if spec.also}
    assert takes == {
        "utredningstider": ("half", "quarter"),
        "barnets-rost": ("half", "quarter"),
        "barnchecklista": ("half", "quarter"),
        "avslutade-utredningar": ("year", "quarter"),
        "klagomal": ("year", "quarter"),
        "lex-sarah": ("year", "quarter"),
    }


def test_a_chart_is_the_same_svg_for_the_same_figures_and_says_when_it_is_empty() -> None:
    from projections.kvartal import charts

    def draw(values: list[float | None]) -> bytes:
        return charts.bars(["2026Q1", "2026Q2"], {"Flickor": values}, ylabel="beslut")

    one = draw([1, 2])
    assert one == draw([1, 2]) and one != draw([2, 1])
    assert one.startswith(b"<?xml") and b"<script" not in one and b"<image" not in one
    # text is drawn as glyph paths (matplotlib names each text in a comment)
    assert b"<text" not in one and b"<!-- 2026Q2 -->" in one
    empty = draw([0, None])
    assert b"<!-- Inga uppgifter under perioden -->" in empty
    assert b"Inga uppgifter" not in one
