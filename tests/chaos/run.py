"""The chaos suite: load over the HTTP API while faults are injected, then the invariants.

Full run (documented in the README, ~1,000 cases and 30 faults of each kind):

    .venv/bin/python -m tests.chaos.run --cases 1000 --faults 30

The test command runs a small sample (``tests/chaos/test_chaos_sample.py``). Both print the
counts: commands accepted, faults injected per kind, lost = 0, duplicated = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from temporalio.client import Client
from temporalio.service import RPCError

from domain.calendar import legal_date
from domain.events import SYSTEM_TYPES, CaseEvent
from domain.frister import OVERDUE, compute_frister
from infra.audit.verify import verify_temporal
from infra.config.settings import load_settings
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period, period_containing
from projections.reports import REPORTS, dumps
from projections.runner import rebuild
from projections.view import open_view
from tests.chaos.cluster import Cluster, cluster
from tests.chaos.load import LoadStats, drive
from workflows.child_case import alert_key

FAULT_KINDS = ("worker", "postgres", "temporal", "projections")


@dataclass
class ChaosReport:
    cases: int
    accepted: int = 0
    rejected: int = 0
    gave_up: int = 0
    retries: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    supervisor_restarts: list[str] = field(default_factory=list)
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    gaps: int = 0
    frister_due: int = 0
    frister_fired_once: int = 0
    frister_bad: list[str] = field(default_factory=list)
    projections_equal: bool = False
    audit_ok: bool = False
    audit_output: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        f = ", ".join(f"{k} {self.faults[k]}" for k in FAULT_KINDS)
        return [
            f"cases {self.cases}, commands accepted {self.accepted}, rejected {self.rejected}, "
            f"gave up {self.gave_up}, client retries {self.retries}",
            f"faults injected: {f}; unplanned restarts by the supervisor: "
            f"{dict(Counter(self.supervisor_restarts)) or 0}",
            f"stored command events {self.stored}: lost = {self.lost}, "
            f"duplicated = {self.duplicated}, gaps = {self.gaps}",
            f"due frister {self.frister_due}, fired exactly once {self.frister_fired_once}",
            f"projections equal a rebuild: {self.projections_equal}; audit verify: {self.audit_ok}",
            f"wall time {self.seconds:.1f} s",
        ]

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.lost == 0
            and self.duplicated == 0
            and self.gaps == 0
            and self.gave_up == 0
            and self.rejected == 0
            and self.frister_fired_once == self.frister_due
            and self.projections_equal
            and self.audit_ok
        )


async def _inject(c: Cluster, per_kind: int, interval: float, report: ChaosReport) -> None:
    plan = [k for k in FAULT_KINDS for _ in range(per_kind)]
    random.Random(7).shuffle(plan)
    actions = {
        "worker": c.kill_worker,
        "postgres": c.restart_postgres,
        "temporal": c.restart_temporal,
        "projections": c.kill_projections,
    }
    for kind in plan:
        await asyncio.sleep(interval * (0.5 + random.random()))
        await asyncio.to_thread(actions[kind])
        report.faults[kind] += 1
        await asyncio.to_thread(c.supervise)


def _token(c: Cluster) -> str:
    proc = c.barnflow(
        "token", "create", "--role", "system", "--kommun", "1280", "--subject", "chaos"
    )
    if proc.returncode != 0:
        raise RuntimeError(f"token create failed: {proc.stderr.strip()}")
    return proc.stdout.strip().splitlines()[-1]


def _store(c: Cluster) -> CaseStore:
    cipher = base64.b64decode(c.env["BARNFLOW_CIPHER_KEY"])
    return CaseStore(env=eventsourcing_env(c.database_url, "barnflow", cipher))


def _all_events(store: CaseStore) -> list[CaseEvent]:
    out: list[CaseEvent] = []
    while batch := store.events_after(out[-1].position or 0 if out else 0, 5000):
        out.extend(batch)
    return out


def _by_case(events: list[CaseEvent]) -> dict[tuple[str, str], list[CaseEvent]]:
    cases: dict[tuple[str, str], list[CaseEvent]] = {}
    for e in events:
        cases.setdefault((e.kommun, e.case_ref), []).append(e)
    return cases


def _due_frister(
    cases: dict[tuple[str, str], list[CaseEvent]], today: date
) -> list[tuple[tuple[str, str], str, int]]:
    """(case, alert key, alerts stored) for every frist that is overdue and unmet today."""
    out = []
    for case, evs in cases.items():
        keys = Counter(e.idempotency_key for e in evs if e.type in SYSTEM_TYPES)
        for f in compute_frister(evs, as_of=today):
            if f.status == OVERDUE:
                out.append((case, alert_key(f), keys[alert_key(f)]))
    return out


def _reports(view: Any, today: date) -> dict[str, bytes]:
    out = {}
    for name, spec in sorted(REPORTS.items()):
        period = parse_period(spec.period, period_containing(spec.period, today))
        out[name] = dumps(spec.build(view, "1280", period))
    return out


async def _settle(c: Cluster, store: CaseStore, stats: LoadStats, timeout: float) -> None:
    """Wait until every late case has its A2 alert, the views reached the store's head, and
    every open case's workflow has published the store's last position of its case (what
    ``audit verify`` compares). An append the killed worker made but never reported is retried
    by Temporal after the activity's timeout and only then reaches the workflow: until then the
    store is ahead of the workflow, as it is for any append in flight. A workflow that never
    catches up is still found: the wait ends at ``timeout`` and ``audit verify`` reports it."""
    deadline = time.monotonic() + timeout
    today = legal_date(datetime.now(UTC))
    pseudonym = load_settings(c.env).keys.pseudonym
    client = await Client.connect(c.env["BARNFLOW_TEMPORAL_ADDRESS"])
    while time.monotonic() < deadline:
        c.supervise()
        cases = _by_case(_all_events(store))
        pending = [k for k in _due_frister(cases, today) if k[2] == 0]
        view = open_view(store.env)
        try:
            behind = view.position() < store.max_position()
        finally:
            view.datastore.close()
        if not pending and not behind:
            try:
                caught_up = not await verify_temporal(client, store.case_heads(), pseudonym)
            except RPCError:  # Temporal restarting after its fault: asked again next second
                caught_up = False
            if caught_up:
                return
        await asyncio.sleep(1.0)


async def run_chaos(
    root: Path, *, cases: int, faults: int, concurrency: int, interval: float, budget: float
) -> ChaosReport:
    report = ChaosReport(cases=cases)
    started = time.monotonic()
    with cluster(root) as c:
        token = _token(c)
        inject = asyncio.create_task(_inject(c, faults, interval, report))
        stats = await drive(
            c.api_url,
            token,
            cases,
            concurrency=concurrency,
            salt=secrets.randbelow(9) + 1,
            budget=budget,
        )
        await inject
        report.accepted, report.rejected = len(stats.accepted), len(stats.rejected)
        report.gave_up, report.retries = len(stats.gave_up), stats.retries
        report.problems += [f"rejected {k}: {s} {t}" for k, s, t in stats.rejected[:5]]
        store = _store(c)
        try:
            await _settle(c, store, stats, timeout=120)
            report.supervisor_restarts = list(c.supervisor_restarts)
            _check_store(store, stats, report)
            # the live views (kept by the killed-and-restarted runner) against a rebuild
            c.projections.stop()
            view = open_view(store.env)
            try:
                live = _reports(view, legal_date(datetime.now(UTC)))
                rebuild(store.env)
                rebuilt = _reports(view, legal_date(datetime.now(UTC)))
            finally:
                view.datastore.close()
            report.projections_equal = live == rebuilt
            if not report.projections_equal:
                differ = [n for n in live if live[n] != rebuilt.get(n)]
                report.problems.append(f"reports differ after rebuild: {differ}")
            audit = c.barnflow("audit", "verify")
            report.audit_ok = audit.returncode == 0
            report.audit_output = (audit.stdout + audit.stderr).strip()[-2000:]
        finally:
            store.close()
    report.seconds = time.monotonic() - started
    return report


def _check_store(store: CaseStore, stats: LoadStats, report: ChaosReport) -> None:
    events = _all_events(store)
    positions = [e.position or 0 for e in events]
    report.gaps = sum(1 for a, b in zip([0, *positions], positions, strict=False) if b != a + 1)
    commands = [e for e in events if e.type not in SYSTEM_TYPES]
    report.stored = len(commands)
    seen = Counter((e.kommun, e.case_ref, e.idempotency_key) for e in commands)
    report.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    report.lost = sum(
        1 for key, (kommun, ref) in stats.accepted.items() if seen[(kommun, ref, key)] == 0
    )
    extra = [k for (_, _, k) in seen if k not in stats.accepted]
    if extra:
        report.problems.append(f"{len(extra)} stored commands were never acknowledged: {extra[:3]}")
    with psycopg.connect(_url(store)) as conn:
        rows = conn.execute(
            "SELECT originator_id, array_agg(originator_version ORDER BY originator_version) "
            "FROM barnflow.barnflow_events GROUP BY originator_id"
        ).fetchall()
    for _, versions in rows:
        if list(versions) != list(range(1, len(versions) + 1)):
            report.gaps += 1
    today = legal_date(datetime.now(UTC))
    due = _due_frister(_by_case(events), today)
    report.frister_due = len(due)
    report.frister_fired_once = sum(1 for _, _, n in due if n == 1)
    report.frister_bad = [f"{case[1]} {key}: {n}" for case, key, n in due if n != 1][:10]
    alerts = Counter(
        (e.kommun, e.case_ref, e.idempotency_key) for e in events if e.type in SYSTEM_TYPES
    )
    report.duplicated += sum(n - 1 for n in alerts.values() if n > 1)


def _url(store: CaseStore) -> str:
    env = store.env
    return (
        f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/"
        f"{env['POSTGRES_DBNAME']}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--faults", type=int, default=30, help="faults of each kind")
    p.add_argument("--concurrency", type=int, default=24)
    p.add_argument("--interval", type=float, default=3.0, help="mean seconds between faults")
    p.add_argument("--budget", type=float, default=3600.0, help="give up on a command after")
    p.add_argument("--keep", type=Path, default=None, help="run under this directory and keep it")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bf-chaos-") as tmp:
        report = asyncio.run(
            run_chaos(
                args.keep or Path(tmp),
                cases=args.cases,
                faults=args.faults,
                concurrency=args.concurrency,
                interval=args.interval,
                budget=args.budget,
            )
        )
    print("\n".join(report.lines()))
    for problem in report.problems:
        print(f"problem: {problem}")
    if not report.audit_ok:
        print(report.audit_output)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
