"""The report views in PostgreSQL: every read model's rows plus one tracking position.

All read models live behind one eventsourcing tracking recorder, so a batch of events changes
every view and the position in a single transaction. Reports therefore always see one consistent
position ("caught up to N" means every report), the record is decrypted once per event rather than
once per view, and a crash can only lose a whole uncommitted batch, which is then redone.

Frister depend on each kommun's configuration (its policy: K1's days, the söndagsregel …). The
views record the configuration versions they were computed with (``VIEW_CONFIG``); every write
and every read computes with exactly those versions, and only a writer changes them, by
rebuilding the views (``follow_versions``): views never mix two versions of one kommun.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import Cipher, InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow, dict_row

from domain.events import event_from_json
from domain.rules import DEFAULT_POLICY, KommunPolicy
from infra.persistence.cipher import KeyringCipher
from infra.persistence.kommun_config import resolve
from infra.persistence.store import APP_NAME
from projections import horizon, shadow
from projections.copytext import copy_text
from projections.facts import Seal, case_frister, case_rows, ivo_id_of, ivo_key, redact
from projections.tables import ALL_TABLES, CASES, FRISTER, ROW_TABLES, VIEW_CONFIG, Table

PROJECTION_NAME = "reports"
#: One decoded event: (case_id, envelope with position and recorded_at, unredacted).
Decoded = tuple[str, dict[str, Any]]
#: kommun → the policy its cases' rows are computed with (a kommun not in it: the defaults).
Policies = Mapping[str, KommunPolicy]


def _widens(columns: tuple[str, ...], table: Table) -> bool:
    """Whether ``table`` only adds nullable columns after ``columns`` (an older version's):
    such a view is widened in place and keeps its rows, which read the new columns as NULL."""
    n = len(columns)
    return (
        n < len(table.columns)
        and table.column_names[:n] == columns
        and all("NOT NULL" not in typ.upper() for _, typ in table.columns[n:])
    )


#: Cases folded per step when views an older release lacked are filled (``_backfill``).
#: The comment a view carries from its creation for an older release's store until its
#: backfill commits.
PENDING = "barnflow: backfill pending"
BACKFILL_CHUNK = 2000
#: The longest a runner's batch transaction may sit idle between its statements (see
#: ``allow_idle``): it folds a batch's cases in Python after reading them under ``FOR UPDATE``.
BATCH_IDLE = "2min"


def allow_idle(conn: Cursor[DictRow] | Connection[Any], limit: str) -> None:
    """Raise the idle-in-transaction limit for the current transaction only (``SET LOCAL``).

    The store's connections end a transaction idle for 5 s (eventsourcing's
    ``POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT``, a guard against leaked transactions).
    A transaction that computes in Python between its statements (a report folding cases, a
    runner batch folding into the views, a rebuild waiting on its fold workers) may be idle
    for longer on a busy machine or at a million events; it says so here, and a leaked one
    still ends after ``limit``."""
    conn.execute(
        sql.SQL("SET LOCAL idle_in_transaction_session_timeout = {}").format(sql.Literal(limit))
    )


class ReportsView(PostgresTrackingRecorder):
    """Tables of every read model (``projections.tables``) with tracking in the same transaction."""

    ivo_key: bytes = b""
    #: The store environment the view was opened on (set by open_view): the reports on the
    #: complaints' and lex Sarah record (``projections.klagomal``) open that store from it.
    store_env: Mapping[str, str] = {}
    #: The store's cipher: seals the views' free text and the cached events (set by open_view).
    cipher: Cipher
    #: Views this version has that the schema's views did not (filled by ``backfill``).
    added_views: tuple[Table, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        for table in ALL_TABLES:
            self.sql_create_statements.append(table.create(schema))
            self.sql_create_statements.extend(table.create_indexes(schema))
        self.sql_create_statements.append(VIEW_CONFIG.create(schema))

    def _complete(self, curs: Cursor[DictRow], found: Mapping[str, tuple[str, ...]]) -> bool:
        """Whether every view, its indexes, the configuration table and the tracking table
        exist. Then ``create_table`` runs no DDL: even ``CREATE INDEX IF NOT EXISTS`` takes a
        SHARE lock on its table first, so a process opening the views (a CLI report, an API
        starting) waited for a rebuild's transaction to commit."""
        if any(t.name not in found for t in ALL_TABLES):
            return False
        curs.execute(
            "SELECT array_agg(tablename::text) AS t FROM pg_tables WHERE schemaname = %s",
            (self.schema,),
        )
        row = curs.fetchone()
        tables = set((row or {}).get("t") or ())
        if not {VIEW_CONFIG.name, self.tracking_table_name} <= tables:
            return False
        curs.execute(
            "SELECT array_agg(indexname::text) AS i FROM pg_indexes WHERE schemaname = %s",
            (self.schema,),
        )
        row = curs.fetchone()
        indexes = set((row or {}).get("i") or ())
        wanted = {name for t in ALL_TABLES for name in t.index_names()}
        return wanted <= indexes

    def create_table(self) -> None:
        """Create the views, first dropping any whose columns an older version defined.

        The views are derived data: a table of another shape is dropped with the tracking
        position, so the runner rebuilds every view from the record instead of failing. A view
        an older version did not have is created and filled from the events the others were
        folded from (``_backfill``).
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS cols "
                "FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = ANY(%s) GROUP BY table_name",
                (self.schema, [t.name for t in ALL_TABLES]),
            )
            found = {r["table_name"]: tuple(r["cols"]) for r in curs.fetchall()}
            widened = [t for t in ALL_TABLES if t.name in found and _widens(found[t.name], t)]
            stale = [
                t
                for t in ALL_TABLES
                if t.name in found and found[t.name] != t.column_names and t not in widened
            ]
            added = [t for t in ROW_TABLES if t.name not in found] if CASES.name in found else []
            pending = self._pending(curs, found)
            if not stale and not widened and self._complete(curs, found):
                self.added_views = tuple(pending)
                return  # nothing to create: no DDL, so no lock a running rebuild holds up
            if not stale:
                for t in widened:
                    for col, typ in t.columns[len(found[t.name]) :]:
                        curs.execute(
                            sql.SQL("ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS {} {}").format(
                                sql.Identifier(self.schema),
                                sql.Identifier(t.name),
                                sql.Identifier(col),
                                sql.SQL(typ),
                            )
                        )
            for t in added:
                # created here, with the mark, in one transaction: a backfill that fails or is
                # killed leaves the mark, and the next process to open the views fills the table
                curs.execute(t.create(self.schema))
                curs.execute(
                    sql.SQL("COMMENT ON TABLE {}.{} IS {}").format(
                        sql.Identifier(self.schema), sql.Identifier(t.name), sql.Literal(PENDING)
                    )
                )
            if stale:
                added, pending = [], []
                for table in ALL_TABLES:
                    curs.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                            sql.Identifier(self.schema), sql.Identifier(table.name)
                        )
                    )
                curs.execute(
                    "SELECT to_regclass(%s) AS t",
                    (f'"{self.schema}"."{self.tracking_table_name}"',),
                )
                row = curs.fetchone()
                if row is not None and row["t"] is not None:
                    curs.execute(
                        sql.SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                            sql.Identifier(self.schema), sql.Identifier(self.tracking_table_name)
                        ),
                        (APP_NAME,),
                    )
        super().create_table()
        self.added_views = tuple(dict.fromkeys([*pending, *added]))

    def _pending(self, curs: Cursor[DictRow], found: Mapping[str, tuple[str, ...]]) -> list[Table]:
        """The views created for an older release's store whose backfill has not committed yet
        (their ``PENDING`` comment is cleared in the backfill's own transaction)."""
        names = [t.name for t in ROW_TABLES if t.name in found]
        if not names:
            return []
        curs.execute(
            "SELECT c.relname AS name FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) "
            "AND obj_description(c.oid, 'pg_class') = %s",
            (self.schema, names, PENDING),
        )
        marked = {r["name"] for r in curs.fetchall()}
        return [t for t in ROW_TABLES if t.name in marked]

    def backfill(self) -> None:
        """Fill ``added_views`` (``create_table``) once the view can unseal (``open_view``)."""
        if self.added_views:
            self._backfill(self.added_views)
            self.added_views = ()

    def _backfill(self, tables: Sequence[Table]) -> None:
        """Fill views an older version did not have from the events the views already folded
        (``CASES`` caches each case's redacted events), so a new view does not cost a rebuild
        and the others stay as they are. Idempotent across processes: under an exclusive lock,
        only a table still empty is filled. The cases are read through a server-side cursor
        and folded ``BACKFILL_CHUNK`` at a time: reading and folding a million events' cases at
        once held 5 GB and sat idle between two statements for minutes (the store ends such a
        transaction after 5 s; ``BATCH_IDLE`` here, like a runner's batch)."""
        with self.cursor(commit=True) as curs:
            allow_idle(curs, BATCH_IDLE)
            empty = []
            for table in tables:
                ref = sql.SQL("{}.{}").format(
                    sql.Identifier(self.schema), sql.Identifier(table.name)
                )
                curs.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(ref))
                curs.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(ref))
                if curs.fetchone() is None:
                    empty.append(table)
            for table in tables:
                curs.execute(
                    sql.SQL("COMMENT ON TABLE {}.{} IS NULL").format(
                        sql.Identifier(self.schema), sql.Identifier(table.name)
                    )
                )
            if not empty:
                return
            policies = self.policies(curs)
            today = horizon.projection_day()
            with curs.connection.cursor("barnflow_backfill", row_factory=dict_row) as cases_curs:
                cases_curs.execute(
                    sql.SQL(
                        "SELECT case_id::text AS case_id, ivo_id, events FROM {}.{} "
                        "ORDER BY case_id"
                    ).format(sql.Identifier(self.schema), sql.Identifier(CASES.name))
                )
                while rows := cases_curs.fetchmany(BACKFILL_CHUNK):
                    cases: list[Case] = [
                        (r["case_id"], orjson.loads(self.unseal(r["events"])), r["ivo_id"])
                        for r in rows
                    ]
                    encoded = encode_cases(cases, self.seal, policies, today=today)
                    for table, data in zip(ALL_TABLES, encoded, strict=True):
                        if table in empty and data:
                            with curs.copy(table.copy(self.schema)) as cp:
                                cp.write(data)

    def seal(self, plaintext: bytes) -> bytes:
        return self.cipher.encrypt(plaintext)

    def unseal(self, sealed: bytes) -> bytes:
        return self.cipher.decrypt(bytes(sealed))

    @property
    def schema(self) -> str:
        return str(self.datastore.schema)

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Cursor[DictRow]]:
        """A transaction on the views, behind their gate (``projections.shadow``): a rebuild
        swapping its views in waits for it, and it for the swap."""
        with self.datastore.transaction(commit=commit) as curs:
            shadow.gate(curs, self.schema, self.tracking_table_name)
            yield curs

    def position(self) -> int:
        return int(self.max_tracking_id(APP_NAME) or 0)

    # ------------------------------------------------------------------ configuration versions
    def versions(self, curs: Cursor[DictRow] | None = None) -> dict[str, str]:
        """kommun → configuration version the views were computed with (empty: the defaults)."""
        if curs is None:
            with self.cursor() as own:
                return self.versions(own)
        curs.execute(
            sql.SQL("SELECT kommun, version FROM {}.{}").format(
                sql.Identifier(self.schema), sql.Identifier(VIEW_CONFIG.name)
            )
        )
        return {r["kommun"]: r["version"] for r in curs.fetchall()}

    def policies(self, curs: Cursor[DictRow] | None = None) -> dict[str, KommunPolicy]:
        """The policies of ``versions`` (read from the stored configuration versions)."""
        if curs is None:
            with self.cursor() as own:
                return self.policies(own)
        return {
            k: resolve(curs.connection, self.schema, v).policy
            for k, v in self.versions(curs).items()
        }

    def policy(self, kommun: str) -> KommunPolicy:
        """The policy ``kommun``'s rows were computed with (the defaults when none)."""
        return self.policies().get(kommun, DEFAULT_POLICY)

    def record_versions(self, curs: Cursor[DictRow], versions: Mapping[str, str]) -> None:
        """Name ``versions`` as the ones the views are computed with (caller's transaction)."""
        table = sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(VIEW_CONFIG.name)
        )
        curs.execute(sql.SQL("DELETE FROM {}").format(table))
        for kommun, version in sorted(versions.items()):
            curs.execute(
                sql.SQL("INSERT INTO {} (kommun, version) VALUES (%s, %s)").format(table),
                (kommun, version),
            )

    def follow_versions(self, versions: Mapping[str, str]) -> dict[str, tuple[str, str]]:
        """Make ``versions`` the views' versions; if any kommun's differs, empty the views first
        (the runner then refolds the record with the new ones). Only the views' writer calls
        this. Returns what changed in views that had content: kommun → (old, new), ``"-"`` for
        none (empty: nothing had to be refolded)."""
        with self.cursor(commit=True) as curs:
            curs.execute(
                sql.SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                    sql.Identifier(self.schema), sql.Identifier(VIEW_CONFIG.name)
                )
            )
            old = self.versions(curs)
            changed = {
                k: (old.get(k, "-"), versions.get(k, "-"))
                for k in sorted(set(old) | set(versions))
                if old.get(k) != versions.get(k)
            }
            if not changed:
                return {}
            for v in versions.values():
                resolve(curs.connection, self.schema, v)  # stored? refuse before emptying
            self.record_versions(curs, versions)
            curs.execute(
                sql.SQL("SELECT 1 FROM {}.{} WHERE application_name = %s LIMIT 1").format(
                    sql.Identifier(self.schema), sql.Identifier(self.tracking_table_name)
                ),
                (APP_NAME,),
            )
            if curs.fetchone() is None:
                return {}  # nothing folded yet: the views start with these versions
            self.truncate(curs)
        return changed

    # ------------------------------------------------------------------ writes
    def apply_batch(
        self,
        batch: Sequence[Decoded],
        position: int,
        *,
        today: date | None = None,
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        """Fold ``batch`` into every view and move the position to ``position``, atomically;
        repeating frister generated past ``today`` (default: ``horizon.projection_day()``)."""
        today = today or horizon.projection_day()
        by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for case_id, env in batch:
            by_case[case_id].append(env)
        with self.cursor(commit=True) as curs:
            allow_idle(curs, BATCH_IDLE)
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
                events: list[dict[str, Any]] = (
                    orjson.loads(self.unseal(old["events"])) if old else []
                )
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
            write_cases(curs, self.schema, cases, self.seal, self.policies(curs), today=today)
            self._insert_tracking(curs, Tracking(APP_NAME, position))
            if before_commit is not None:
                before_commit(position)

    def extend_horizons(self, today: date, limit: int = horizon.BATCH) -> int:
        """Regenerate the frister of up to ``limit`` cases whose ``frister_until`` falls before
        ``horizon.due_before(today)``, to ``generation_horizon`` of ``today``, in one
        transaction; how many cases it extended (``limit``: there may be more).

        Only the ``frister`` rows and ``frister_until`` of those cases change, to what a fold of
        their events on ``today`` writes; the tracking position does not move, so a batch of
        events and an extension can come in either order. Only the views' writer calls this
        (``ReportsRunner.extend_horizons``)."""
        cases_ref = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(CASES.name))
        with self.cursor(commit=True) as curs:
            allow_idle(curs, BATCH_IDLE)
            curs.execute(
                sql.SQL(
                    "SELECT case_id::text AS case_id, kommun, events FROM {} "
                    "WHERE frister_until < %s ORDER BY frister_until, case_id LIMIT %s FOR UPDATE"
                ).format(cases_ref),
                (horizon.due_before(today), limit),
            )
            found = curs.fetchall()
            if not found:
                return 0
            policies = self.policies(curs)
            rows: list[tuple[Any, ...]] = []
            untils: list[tuple[str, date | None]] = []
            for r in found:
                envs = orjson.loads(self.unseal(r["events"]))
                events = [event_from_json(e) for e in envs]
                policy = policies.get(r["kommun"], DEFAULT_POLICY)
                frister, until = case_frister(r["case_id"], events, policy, today=today)
                rows.extend(frister)
                untils.append((r["case_id"], until))
            ids = [cid for cid, _ in untils]
            curs.execute(
                sql.SQL("DELETE FROM {}.{} WHERE case_id = ANY(%s::uuid[])").format(
                    sql.Identifier(self.schema), sql.Identifier(FRISTER.name)
                ),
                (ids,),
            )
            if rows:
                with curs.copy(FRISTER.copy(self.schema)) as cp:
                    cp.write(copy_text(rows))
            curs.executemany(
                sql.SQL("UPDATE {} SET frister_until = %s WHERE case_id = %s::uuid").format(
                    cases_ref
                ),
                [(until, cid) for cid, until in untils],
            )
        return len(found)

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
        """Empty every view and forget the position (inside the caller's transaction).

        ``DELETE``, not ``TRUNCATE``: a truncate holds an ACCESS EXCLUSIVE lock until the
        writer commits, so every report asked meanwhile waited for it (minutes at a million
        events; a rebuild writes new tables instead, ``projections.shadow``). Deleted rows
        stay visible to other transactions until the commit, so reports keep answering from
        the old views; autovacuum reclaims the space afterwards."""
        for t in ALL_TABLES:
            curs.execute(
                sql.SQL("DELETE FROM {}.{}").format(
                    sql.Identifier(self.schema), sql.Identifier(t.name)
                )
            )
        self.forget_position(curs)

    def forget_position(self, curs: Cursor[DictRow]) -> None:
        """Delete the views' tracking position (inside the caller's transaction)."""
        curs.execute(
            sql.SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                sql.Identifier(self.schema), sql.Identifier(self.tracking_table_name)
            ),
            (APP_NAME,),
        )

    def record_position(self, curs: Cursor[DictRow], position: int) -> None:
        if position:
            self._insert_tracking(curs, Tracking(APP_NAME, position))


Case = tuple[str, list[dict[str, Any]], str | None]


def encode_cases(
    cases: Iterable[Case],
    seal: Seal,
    policies: Policies | None = None,
    *,
    today: date | None = None,
) -> list[bytes]:
    """COPY bytes per table of ``ALL_TABLES`` for ``cases`` (case_id, redacted envelopes in
    stream order, IVO id): everything a case contributes to the views, computed without a
    database (what rebuild workers run), with each kommun's policy from ``policies`` and
    repeating frister generated past ``today`` (``projections.horizon``; ``None``: past each
    case's last event only)."""
    policies = policies or {}
    buffers: list[list[tuple[Any, ...]]] = [[] for _ in ALL_TABLES]
    cache_rows = buffers[0]
    for cid, envs, ivo in cases:
        if not envs:
            continue
        events = [event_from_json(e) for e in envs]
        policy = policies.get(envs[0]["kommun"], DEFAULT_POLICY)
        tables, until = case_rows(cid, events, ivo, seal, policy, today=today)
        for buf, rows in zip(buffers[1:], tables, strict=True):
            buf.extend(rows)
        first = envs[0]
        days = [e.legal_date for e in events]
        cache_rows.append(
            (
                cid,
                first["kommun"],
                first["case_ref"],
                ivo,
                envs[-1]["position"],
                until,
                seal(orjson.dumps(envs)),
                tuple(sorted({e["type"] for e in envs})),
                min(days),
                max(days),
            )
        )
    return [copy_text(rows) if rows else b"" for rows in buffers]


def write_encoded(
    curs: Cursor[Any],
    schema: str | None,
    encoded: Sequence[bytes],
    *,
    suffix: str = "",
    freeze: bool = False,
) -> None:
    """Stream ``encode_cases`` output into the views (``schema=None``: the temporary copies;
    ``suffix`` and ``freeze``: as ``Table.copy``, for a rebuild's copies of the views)."""
    for table, data in zip(ALL_TABLES, encoded, strict=True):
        if data:
            with curs.copy(table.copy(schema, suffix=suffix, freeze=freeze)) as cp:
                cp.write(data)


def write_cases(
    curs: Cursor[Any],
    schema: str | None,
    cases: Iterable[Case],
    seal: Seal,
    policies: Policies | None = None,
    *,
    today: date | None = None,
) -> None:
    """COPY the rows of ``cases`` into the views (``schema=None``: the session's temporary
    copies, for the as-known-at reports); ``today`` as in ``encode_cases``."""
    write_encoded(curs, schema, encode_cases(cases, seal, policies, today=today))


def open_view(env: Mapping[str, str]) -> ReportsView:
    """The report views of the store configured by ``env`` (tables created if missing)."""
    factory = InfrastructureFactory[ReportsView].construct(
        env=Environment(PROJECTION_NAME, dict(env))
    )
    view = factory.tracking_recorder(ReportsView)
    view.ivo_key = ivo_key(str(env.get("CIPHER_KEY", "")))
    view.store_env = dict(env)
    view.cipher = view_cipher(env)
    try:
        view.backfill()
    except BaseException:
        view.datastore.close()
        raise
    return view


def view_cipher(env: Mapping[str, str]) -> Cipher:
    """The store's cipher (current and retired keys) from the store's environment."""
    return KeyringCipher(Environment(APP_NAME, dict(env)))
