"""A small sample of the chaos suite for every test run: 40 cases over the HTTP API while the
worker is SIGKILLed, PostgreSQL crashes and restarts, the Temporal server restarts and the
projection runner is SIGKILLed — then nothing accepted is lost or duplicated, no stream has a
gap, every due frist fired exactly once, the views equal a rebuild and ``audit verify`` passes.
The full run (1,000 cases, 30 faults of each kind): ``python -m tests.chaos.run``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.chaos.run import FAULT_KINDS, run_chaos


async def test_chaos_sample_loses_and_duplicates_nothing() -> None:
    # not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as another user
    with tempfile.TemporaryDirectory(prefix="bf-chaos-") as tmp:
        report = await run_chaos(
            Path(tmp) / "chaos", cases=40, faults=1, concurrency=8, interval=1.0, budget=240
        )
    print("\n".join(report.lines()))
    assert all(report.faults[k] == 1 for k in FAULT_KINDS)
    assert report.accepted > 0 and report.stored == report.accepted
    assert (report.lost, report.duplicated, report.gaps, report.gave_up) == (0, 0, 0, 0)
    assert report.frister_due > 0 and report.frister_fired_once == report.frister_due
    assert report.projections_equal, report.problems
    assert report.audit_ok, report.audit_output
    assert report.ok, report.problems
