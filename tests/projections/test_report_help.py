"""``barnflow report --help`` names each report's period flag and the formats the flags take."""

from __future__ import annotations

import re

import pytest

from infra.cli.main import main
from projections.reports import REPORTS


def test_report_help_names_each_reports_period_flag_and_the_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["report", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    from infra.cli.report import PERIOD_FLAGS as flag

    for name, spec in REPORTS.items():
        assert re.search(rf"^  {re.escape(name)}\s+{flag[spec.period]}\s", text, re.M), name
    for fmt in ("YYYY-MM-DD", "2026Q2", "2026H1", "2026-03", "YYYY, e.g. 2026", "+02:00"):
        assert fmt in text
