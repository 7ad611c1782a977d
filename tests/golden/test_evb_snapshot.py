"""A frozen EVB quarter (issue 17 item 3): IVO's individrapport, the KF statistikrapport and the
evb table printed from one stored snapshot agree with each other, match the hand-checked golden
file (evb_snapshot.md), and do not move when the record changes after the freeze — while the
live report does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infra.persistence.importer import import_lines
from infra.persistence.snapshots import SnapshotError, freeze, load
from infra.persistence.store import CaseStore
from projections.periods import parse_period
from projections.reports import REPORTS, dumps, from_snapshot
from projections.runner import caught_up
from projections.view import ReportsView
from tests.golden.test_golden import KOMMUN, LOADED_AT

HERE = Path(__file__).parent
Q = parse_period("quarter", "2026Q2")
#: E5's kontaktfamilj, offered stödsamtal and declined, is verkställd after all on 2026-06-15:
#: recorded after the freeze, it changes the live 2026Q2 report.
LATE = (
    '{"kommun":"1280","case_ref":"EVB-E5","type":"insats_verkstalld",'
    '"occurred_at":"2026-06-15T10:00:00+02:00","actor":{"id":"hl-1","roll":"socialsekreterare"},'
    '"idempotency_key":"EVB-E5-late","data":{"beslut_id":"B1"}}'
)


def _freeze(store: CaseStore, view: ReportsView, reason: str | None = None) -> int:
    doc = REPORTS["evb"].build(view, KOMMUN, Q)
    return freeze(
        store,
        kommun=KOMMUN,
        kvartal=Q.label,
        position=view.position(),
        doc=doc,
        seal=view.seal,
        replace_reason=reason,
    ).version


def _outputs(store: CaseStore, view: ReportsView, version: int | None = None) -> dict[str, Any]:
    snap = load(store, KOMMUN, Q.label, view.unseal, version)
    meta = {"version": snap.version, "position": snap.position, "digest": snap.digest}
    return {n: from_snapshot(n, snap.doc, meta) for n in ("evb", "individrapport", "kf-statistik")}


def _live(view: ReportsView, name: str) -> dict[str, Any]:
    return REPORTS[name].build(view, KOMMUN, Q)


def _without_meta(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "snapshot"}


def test_snapshot_outputs_agree_match_golden_and_survive_later_events(store: CaseStore) -> None:
    env = dict(store.env)
    lines = (HERE / "evb.jsonl").read_text(encoding="utf-8").splitlines()
    import_lines(store, lines, now=LOADED_AT)
    with caught_up(env) as runner:
        view = runner.view
        assert _freeze(store, view) == 1
        frozen = _outputs(store, view)
        live_before = {n: _live(view, n) for n in frozen}

    # the snapshot prints what the live views printed at the freeze, and the golden file
    for name, doc in frozen.items():
        assert _without_meta(doc) == live_before[name], name
    golden = (HERE / "evb" / "individrapport@2026Q2.json").read_text(encoding="utf-8")
    assert dumps(_without_meta(frozen["individrapport"])).decode() + "\n" == golden

    # the three agree: one individrapport per evb row; KF counts = the rows still open
    individ = frozen["individrapport"]["rows"]
    assert len(individ) == len(frozen["evb"]["rows"]) == 2
    open_rows = Counter((r["insatstyp"], r["kon"]) for r in individ if r["kvar_for_aterrapport"])
    kf = {(r["insatstyp"], r["kon"]): r["antal"] for r in frozen["kf-statistik"]["rows"]}
    assert {k: v for k, v in kf.items() if v} == dict(open_rows)
    assert frozen["kf-statistik"]["summary"]["alla"]["antal"] == sum(open_rows.values()) == 2

    # the declined offer keeps the row open for återrapportering
    e5 = next(r for r in individ if r["ivo_id"] == "20080229-T484")
    assert (e5["erbjudet"], e5["erbjudet_datum"], e5["status"]) == (
        "stodsamtal",
        "2026-04-20",
        "ny",
    )
    assert e5["kvar_for_aterrapport"] is True

    # a second freeze is refused; a replacement with a reason is version 2, version 1 kept
    with caught_up(env) as runner, pytest.raises(SnapshotError, match="already frozen"):
        _freeze(store, runner.view)

    import_lines(store, [LATE], now=LOADED_AT)
    with caught_up(env) as runner:
        view = runner.view
        live_after = _live(view, "kf-statistik")
        assert live_after["summary"]["alla"]["antal"] == 1  # E5 is verkställd now
        assert live_after != live_before["kf-statistik"]
        assert _live(view, "individrapport") != live_before["individrapport"]
        assert _outputs(store, view) == frozen  # the frozen quarter does not move
        assert _freeze(store, view, reason="E5 verkställd 2026-06-15, registrerat sent") == 2
        v2 = _outputs(store, view)
        assert _without_meta(v2["kf-statistik"]) == live_after
        assert v2["evb"]["snapshot"]["position"] > frozen["evb"]["snapshot"]["position"]
        assert _outputs(store, view, version=1) == frozen


def test_snapshot_rows_are_append_only_and_sealed(store: CaseStore, pg_url: str) -> None:
    env = dict(store.env)
    lines = (HERE / "evb.jsonl").read_text(encoding="utf-8").splitlines()
    import_lines(store, lines, now=LOADED_AT)
    with caught_up(env) as runner:
        _freeze(store, runner.view)
    schema = env.get("POSTGRES_SCHEMA") or "public"
    with psycopg.connect(pg_url) as conn:
        payload = conn.execute(f'SELECT payload FROM "{schema}".evb_snapshot').fetchone()
        assert payload is not None and b"stodsamtal" not in bytes(payload[0])
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(f"UPDATE \"{schema}\".evb_snapshot SET reason = 'x'")
