"""The frister read model: every frist of every case, for the deadline report.

Each processed event recomputes its case's frister with ``domain.frister.compute_frister`` (the one
deadline function) and replaces the case's rows; rows, the case's event cache and the tracking
position are written in one transaction, so a crash between events never counts an event twice or
loses one (exactly-once by tracking).
"""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

import orjson
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import sql

from domain.calendar import days_between
from domain.case import fold
from domain.events import CaseEvent, event_from_json
from domain.frister import MET, MISSED, compute_frister, status_on

COLUMNS = (
    "case_id",
    "kommun",
    "case_ref",
    "key",
    "rule",
    "name",
    "subject",
    "trigger_type",
    "trigger_date",
    "due",
    "original_due",
    "shifted_due",
    "fulfilled_date",
    "law",
    "paragraph",
    "blocks_closing",
    "enhet",
    "handlaggare",
)


class FristerView(PostgresTrackingRecorder):
    """PostgreSQL tables of the frister view, with tracking in the same transaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        s = sql.Identifier(self.datastore.schema)
        self.sql_create_statements += [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.frister ("
                "case_id uuid NOT NULL, kommun text NOT NULL, case_ref text NOT NULL, "
                "key text NOT NULL, rule text NOT NULL, name text NOT NULL, subject text, "
                "trigger_type text, trigger_date date NOT NULL, due date NOT NULL, "
                "original_due date NOT NULL, shifted_due date, fulfilled_date date, "
                "law text NOT NULL, paragraph text NOT NULL, blocks_closing boolean NOT NULL, "
                "enhet text, handlaggare text, PRIMARY KEY (case_id, key))"
            ).format(s),
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS frister_kommun_due ON {}.frister (kommun, due)"
            ).format(s),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.frister_case_events ("
                "case_id uuid PRIMARY KEY, events jsonb NOT NULL)"
            ).format(s),
        ]

    def apply_case_event(self, case_id: str, ev: CaseEvent, tracking: Tracking) -> None:
        s = sql.Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "SELECT events FROM {}.frister_case_events WHERE case_id = %s FOR UPDATE"
                ).format(s),
                (case_id,),
            )
            row = curs.fetchone()
            cached: list[dict[str, Any]] = list(row["events"]) if row else []
            cached.append(ev.redacted().to_json())
            events = [event_from_json(e) for e in cached]
            curs.execute(
                sql.SQL(
                    "INSERT INTO {}.frister_case_events VALUES (%s, %s) ON CONFLICT "
                    "(case_id) DO UPDATE SET events = EXCLUDED.events"
                ).format(s),
                (case_id, orjson.dumps(cached).decode()),
            )
            curs.execute(sql.SQL("DELETE FROM {}.frister WHERE case_id = %s").format(s), (case_id,))
            case = fold(events)
            rows = [
                (
                    case_id,
                    ev.kommun,
                    f.case_ref,
                    f.key,
                    f.rule,
                    f.name,
                    f.subject,
                    f.trigger_type,
                    f.trigger_date,
                    f.due,
                    f.original_due,
                    f.shifted_due,
                    f.fulfilled_date,
                    f.law,
                    f.paragraph,
                    f.blocks_closing,
                    case.enhet,
                    case.handlaggare,
                )
                for f in compute_frister(events)
            ]
            if rows:
                curs.executemany(
                    sql.SQL("INSERT INTO {}.frister ({}) VALUES ({})").format(
                        s,
                        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                        sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
                    ),
                    rows,
                )
            self._insert_tracking(curs, tracking)

    def report_rows(
        self, kommun: str, as_of: date, *, include_closed: bool = False
    ) -> list[dict[str, Any]]:
        """Frister of a kommun as of a legal date: what was open or overdue on that day."""
        s = sql.Identifier(self.datastore.schema)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                sql.SQL(
                    "SELECT * FROM {}.frister WHERE kommun = %s AND trigger_date <= %s "
                    "ORDER BY due, case_ref, key"
                ).format(s),
                (kommun, as_of),
            )
            rows = curs.fetchall()
        out = []
        for r in rows:
            status = status_on(r["due"], r["fulfilled_date"], as_of)
            fulfilled = r["fulfilled_date"] if status in (MET, MISSED) else None
            if not include_closed and status in (MET, MISSED):
                continue
            out.append(
                {
                    "case_ref": r["case_ref"],
                    "rule": r["rule"],
                    "frist": r["name"],
                    "key": r["key"],
                    "trigger_date": r["trigger_date"].isoformat(),
                    "due": r["due"].isoformat(),
                    "shifted_due": r["shifted_due"].isoformat() if r["shifted_due"] else None,
                    "days_left": days_between(as_of, r["due"]),
                    "status": status,
                    "fulfilled_date": fulfilled.isoformat() if fulfilled else None,
                    "law": r["law"],
                    "paragraph": r["paragraph"],
                    "enhet": r["enhet"],
                    "handlaggare": r["handlaggare"],
                }
            )
        return out


class FristerProjection(Projection[FristerView]):
    name = "frister"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        envelope = getattr(domain_event, "envelope", None)
        if envelope is None:  # not a case event: just move the position on
            self.view.insert_tracking(tracking)
            return
        ev = event_from_json(envelope)
        self.view.apply_case_event(str(domain_event.originator_id), ev, tracking)
