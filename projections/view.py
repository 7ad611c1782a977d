"""The report views in PostgreSQL: every read model's rows plus one tracking position.

All read models live behind one eventsourcing tracking recorder, so a batch of events changes
every view and the position in a single transaction. Reports therefore always see one consistent
position ("caught up to N" means every report), the record is decrypted once per event rather than
once per view, and a crash can only lose a whole uncommitted batch, which is then redone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.events import event_from_json
from infra.store import APP_NAME
from projections.facts import case_rows, ivo_id_of, ivo_key, redact
from projections.tables import ALL_TABLES, CASES, ROW_TABLES

PROJECTION_NAME = "reports"
#: One decoded event: (case_id, envelope with position and recorded_at, unredacted).
Decoded = tuple[str, dict[str, Any]]


class ReportsView(PostgresTrackingRecorder):
    """Tables of every read model (``projections.tables``) with tracking in the same transaction."""

    ivo_key: bytes = b""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        for table in ALL_TABLES:
            self.sql_create_statements.append(table.create(schema))
            self.sql_create_statements.extend(table.create_indexes(schema))

    @property
    def schema(self) -> str:
        return str(self.datastore.schema)

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Cursor[DictRow]]:
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

    def report_rows(
        self, kommun: str, as_of: date, *, include_closed: bool = False
    ) -> list[dict[str, Any]]:
        """The frister report's rows (kept for callers of the former frister view)."""
        from projections.frister import frister_rows

        with self.cursor() as curs:
            return frister_rows(curs, self.schema, kommun, as_of, include_closed=include_closed)

    def position(self) -> int:
        return int(self.max_tracking_id(APP_NAME) or 0)

    # ------------------------------------------------------------------ writes
    def apply_batch(
        self,
        batch: Sequence[Decoded],
        position: int,
        *,
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        """Fold ``batch`` into every view and move the position to ``position``, atomically."""
        by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for case_id, env in batch:
            by_case[case_id].append(env)
        with self.cursor(commit=True) as curs:
            ids = sorted(by_case)
            curs.execute(
                sql.SQL(
                    "SELECT case_id::text AS case_id, ivo_id, last_position, events FROM {}.{} "
                    "WHERE case_id = ANY(%s::uuid[]) FOR UPDATE"
                ).format(sql.Identifier(self.schema), sql.Identifier(CASES.name)),
                (ids,),
            )
            cached = {r["case_id"]: r for r in curs.fetchall()}
            cases = []
            for cid in ids:
                old = cached.get(cid)
                events: list[dict[str, Any]] = orjson.loads(old["events"]) if old else []
                ivo = old["ivo_id"] if old else None
                last = int(old["last_position"]) if old else 0
                for env in by_case[cid]:
                    if env["position"] <= last:
                        continue  # already folded (defensive: tracking makes this unreachable)
                    ivo = ivo_id_of(self.ivo_key, env, ivo)
                    events.append(redact(env))
                cases.append((cid, events, ivo))
            for table in ALL_TABLES:
                curs.execute(
                    sql.SQL("DELETE FROM {}.{} WHERE case_id = ANY(%s::uuid[])").format(
                        sql.Identifier(self.schema), sql.Identifier(table.name)
                    ),
                    (ids,),
                )
            write_cases(curs, self.schema, cases)
            self._insert_tracking(curs, Tracking(APP_NAME, position))
            if before_commit is not None:
                before_commit(position)

    def reset_if_untracked(self) -> None:
        """Empty views that have rows but no position (left by an older projection version)."""
        with self.cursor(commit=True) as curs:
            curs.execute(
                sql.SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                    sql.Identifier(self.schema), sql.Identifier(self.tracking_table_name)
                )
            )
            if self.max_tracking_id(APP_NAME) is None:
                self.truncate(curs)

    def truncate(self, curs: Cursor[DictRow]) -> None:
        """Empty every view and forget the position (inside the caller's transaction)."""
        names = sql.SQL(", ").join(
            sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(t.name))
            for t in ALL_TABLES
        )
        curs.execute(sql.SQL("TRUNCATE {}").format(names))
        curs.execute(
            sql.SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                sql.Identifier(self.schema), sql.Identifier(self.tracking_table_name)
            ),
            (APP_NAME,),
        )

    def record_position(self, curs: Cursor[DictRow], position: int) -> None:
        if position:
            self._insert_tracking(curs, Tracking(APP_NAME, position))


def write_cases(
    curs: Cursor[Any],
    schema: str | None,
    cases: Iterable[tuple[str, list[dict[str, Any]], str | None]],
) -> None:
    """COPY the rows of ``cases`` (case_id, redacted envelopes in order, IVO id) into the views.

    ``schema=None`` writes the session's temporary copies (the as-known-at reports).
    """
    buffers: list[list[tuple[Any, ...]]] = [[] for _ in ROW_TABLES]
    cache_rows: list[tuple[Any, ...]] = []
    for cid, envs, ivo in cases:
        if not envs:
            continue
        events = [event_from_json(e) for e in envs]
        for buf, rows in zip(buffers, case_rows(cid, events, ivo), strict=True):
            buf.extend(rows)
        first = envs[0]
        cache_rows.append(
            (
                cid,
                first["kommun"],
                first["case_ref"],
                ivo,
                envs[-1]["position"],
                orjson.dumps(envs),
            )
        )
    for table, rows in ((CASES, cache_rows), *zip(ROW_TABLES, buffers, strict=True)):
        if not rows:
            continue
        with curs.copy(table.copy(schema)) as cp:
            for row in rows:
                cp.write_row(row)


def open_view(env: Mapping[str, str]) -> ReportsView:
    """The report views of the store configured by ``env`` (tables created if missing)."""
    factory = InfrastructureFactory[ReportsView].construct(
        env=Environment(PROJECTION_NAME, dict(env))
    )
    view = factory.tracking_recorder(ReportsView)
    view.ivo_key = ivo_key(str(env.get("CIPHER_KEY", "")))
    return view
