"""barnflow's database schema in one place: the DDL of every table barnflow defines itself, the
schema version recorded in the database, and the forward migrations that bring a store to it.

``migrate`` runs at every start under the start-up advisory lock (``infra.bootstrap.open_store``),
so services started together against one database apply each migration once. A migration is
forward-only: it never rewrites or deletes a stored event, and it is never undone; a database
whose version is newer than this code's is refused with one line rather than used.

Tables created by eventsourcing's recorders (the stored events, the hash chain, the views'
tracking) and the report views (``projections.tables``, derived data whose columns are defined
there and which are rebuilt from the record when they change) are created through their
recorders by the baseline migration; every other table's DDL is here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from infra.config.settings import SettingsError

#: The table that records which migrations the database has (one row per applied version).
VERSION_TABLE = "barnflow_schema_version"
ATTEMPTS_TABLE = "barnflow_activity_attempts"
OPS_LOG = "barnflow_ops_log"
ACCESS_LOG = "access_log"
KOMMUN_CONFIG = "kommun_config"


class SchemaTooNew(SettingsError):
    """The database was migrated by a newer barnflow than this one. A ``SettingsError``, so
    every CLI entry point reports it as one line (exit 2): the deployment points this code at
    the wrong database or runs an old release."""


def _s(schema: str) -> sql.Identifier:
    return sql.Identifier(schema)


def api_tables(schema: str) -> list[sql.Composed]:
    """The API's own tables: API keys, webhook subscriptions and their delivery log."""
    stmts = (
        "CREATE TABLE IF NOT EXISTS {s}.api_keys ("
        " key_hash text PRIMARY KEY, subject text NOT NULL, role text NOT NULL,"
        " kommun text NOT NULL, units text[] NOT NULL DEFAULT '{{}}',"
        " created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz)",
        "CREATE TABLE IF NOT EXISTS {s}.webhook_subscriptions ("
        " id uuid PRIMARY KEY, kommun text NOT NULL, url text NOT NULL,"
        " event_types text[] NOT NULL, secret text NOT NULL, created_by text NOT NULL,"
        " after_position bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
        " active boolean NOT NULL DEFAULT true, units text[] NOT NULL DEFAULT '{{}}')",
        # subscriptions created before unit scoping: every unit of the kommun, as they were
        "ALTER TABLE {s}.webhook_subscriptions ADD COLUMN IF NOT EXISTS"
        " units text[] NOT NULL DEFAULT '{{}}'",
        # subscriptions created before CloudEvents keep the body they were built against
        # (deprecated; docs/api.md "Webhooks"); new ones choose, CloudEvents by default
        "ALTER TABLE {s}.webhook_subscriptions ADD COLUMN IF NOT EXISTS"
        " format text NOT NULL DEFAULT 'barnflow-v1'",
        # an explicit permission to receive cases with skyddade personuppgifter (issue 16):
        # subscriptions created before it have none, as they had no way to ask for it
        "ALTER TABLE {s}.webhook_subscriptions ADD COLUMN IF NOT EXISTS"
        " skyddade boolean NOT NULL DEFAULT false",
        "CREATE TABLE IF NOT EXISTS {s}.webhook_deliveries ("
        " id bigserial PRIMARY KEY, subscription_id uuid NOT NULL, position bigint NOT NULL,"
        " event_type text NOT NULL, attempt integer NOT NULL, status_code integer,"
        " error text, delivered boolean NOT NULL, at timestamptz NOT NULL DEFAULT now())",
        "CREATE INDEX IF NOT EXISTS webhook_deliveries_sub"
        " ON {s}.webhook_deliveries (subscription_id, position)",
    )
    return [sql.SQL(stmt).format(s=_s(schema)) for stmt in stmts]


def attempts_table(schema: str) -> list[sql.Composed]:
    """Activity retries as the worker last saw them (``infra.temporal.attempts``, ``ops stuck``)."""
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "workflow_id text NOT NULL, run_id text NOT NULL, activity_id text NOT NULL, "
            "activity_type text NOT NULL, attempt int NOT NULL, error text, "
            "since timestamptz NOT NULL DEFAULT now(), "
            "updated_at timestamptz NOT NULL DEFAULT now(), "
            "PRIMARY KEY (workflow_id, run_id, activity_id))"
        ).format(_s(schema), sql.Identifier(ATTEMPTS_TABLE))
    ]


def ops_log_table(schema: str) -> list[sql.Composed]:
    """The append-only log of operator actions (``ops repair``)."""
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), "
            "actor text NOT NULL, action text NOT NULL, workflow_id text, case_id uuid, "
            "reason text NOT NULL, detail jsonb NOT NULL)"
        ).format(_s(schema), sql.Identifier(OPS_LOG))
    ]


def access_log_table(schema: str) -> list[sql.Composed]:
    """Every read of a case's content, append-only (a trigger refuses UPDATE and DELETE)."""
    s, t = _s(schema), sql.Identifier(ACCESS_LOG)
    fn = sql.Identifier(f"{ACCESS_LOG}_append_only")
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (id bigserial PRIMARY KEY, "
            "at timestamptz NOT NULL, who text NOT NULL, role text NOT NULL, "
            "kommun text NOT NULL, case_id uuid NOT NULL, purpose text NOT NULL)"
        ).format(s, t),
        sql.SQL("CREATE INDEX IF NOT EXISTS access_log_kommun_at ON {}.{} (kommun, at)").format(
            s, t
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS access_log_case ON {}.{} (case_id, at)").format(s, t),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$"
        ).format(s, fn),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON {}.{} "
            "FOR EACH ROW EXECUTE FUNCTION {}.{}()"
        ).format(s, t, s, fn),
    ]


def chain_table(schema: str, chain: str, originator_id_type: str) -> sql.Composed:
    """The store's global hash chain (``infra.persistence.recorder``): one link per position,
    over the event's stream, version and stream digest. Created with the events table by the
    recorder (eventsourcing runs its ``sql_create_statements``), so it is declared here."""
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {}.{} ("
        "position bigint PRIMARY KEY, "
        "originator_id {} NOT NULL, "
        "originator_version bigint NOT NULL, "
        "event_digest text NOT NULL, "
        "digest text NOT NULL)"
    ).format(_s(schema), sql.Identifier(chain), sql.Identifier(originator_id_type))


def kommun_config_table(schema: str) -> list[sql.Composed]:
    """Every version of every kommun configuration ever loaded, append-only (a trigger refuses
    UPDATE and DELETE), so each version a workflow or a decision referenced can be read back.

    ``version`` is ``domain.kommun.config_version(document)``: the row is its own checksum.
    ``source`` is the file it was first loaded from, ``loaded_at`` when (the first time).
    """
    s, t = _s(schema), sql.Identifier(KOMMUN_CONFIG)
    fn = sql.Identifier(f"{KOMMUN_CONFIG}_append_only")
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (version text PRIMARY KEY, kommun text NOT NULL, "
            "document jsonb NOT NULL, source text NOT NULL, "
            "loaded_at timestamptz NOT NULL DEFAULT now())"
        ).format(s, t),
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS kommun_config_kommun ON {}.{} (kommun, loaded_at)"
        ).format(s, t),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'kommun_config is append-only'; END $$"
        ).format(s, fn),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER kommun_config_no_change BEFORE UPDATE OR DELETE ON {}.{} "
            "FOR EACH ROW EXECUTE FUNCTION {}.{}()"
        ).format(s, t, s, fn),
    ]


#: Frozen EVB quarters (issue 17 item 3, ``infra.persistence.snapshots``).
EVB_SNAPSHOT = "evb_snapshot"


def evb_snapshot_table(schema: str) -> list[sql.Composed]:
    """Every frozen EVB quarter, append-only (a trigger refuses UPDATE and DELETE): a refreeze
    with ``--replace`` adds the next ``version`` and keeps the old one. ``payload`` is the evb
    rows sealed with the store's cipher (they carry the decrypted reasons); ``digest`` is the
    sha256 of their canonical bytes; ``position`` the store position the views had reached."""
    s, t = _s(schema), sql.Identifier(EVB_SNAPSHOT)
    fn = sql.Identifier(f"{EVB_SNAPSHOT}_append_only")
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (kommun text NOT NULL, kvartal text NOT NULL, "
            "version integer NOT NULL, position bigint NOT NULL, digest text NOT NULL, "
            "payload bytea NOT NULL, reason text, "
            "frozen_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kommun, kvartal, version))"
        ).format(s, t),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'evb_snapshot is append-only'; END $$"
        ).format(s, fn),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER evb_snapshot_no_change BEFORE UPDATE OR DELETE ON {}.{} "
            "FOR EACH ROW EXECUTE FUNCTION {}.{}()"
        ).format(s, t, s, fn),
    ]


# ---------------------------------------------------------------------------- migrations
Apply = Callable[[psycopg.Connection[Any], str, Mapping[str, str]], None]


@dataclass(frozen=True)
class Migration:
    """One forward step: ``apply(conn, schema, env)`` runs in the transaction that records
    ``version``, so a migration is either applied and recorded, or neither."""

    version: int
    description: str
    apply: Apply


def _baseline(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """Every table of release b0a7168 (the last without a schema version). Each statement is
    idempotent, so a store that release created is adopted as version 1 unchanged."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    from projections.view import open_view

    # eventsourcing's recorders create the events, the hash chain and the views' tracking
    # (CREATE_TABLE in the store's env); opening them here creates any that are missing
    factory = InfrastructureFactory.construct(env=Environment("barnflow", dict(env)))
    recorder: Any = factory.application_recorder()
    recorder.datastore.close()
    open_view(env).datastore.close()
    for stmt in (
        *api_tables(schema),
        *attempts_table(schema),
        *ops_log_table(schema),
        *access_log_table(schema),
    ):
        conn.execute(stmt)


def _kommun_configs(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """The append-only table of kommun configuration versions (issue 13, item 4)."""
    for stmt in kommun_config_table(schema):
        conn.execute(stmt)


#: The homes' application name: tables ``barnflow_hem_events`` and ``barnflow_hem_chain``.
HOMES_APP = "barnflow_hem"


def _homes(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """The homes' record (issue 15, ``infra.persistence.homes``): ``barnflow_hem_events`` and
    its chain, created by the homes' recorder like the cases' tables in the baseline."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    factory = InfrastructureFactory.construct(env=Environment(HOMES_APP, dict(env)))
    recorder: Any = factory.application_recorder()
    recorder.datastore.close()


def _webhook_format(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """webhook_subscriptions.format (issue 18): CloudEvents or the deprecated barnflow-v1 body;
    existing subscriptions keep barnflow-v1 (the column's default)."""
    conn.execute(
        sql.SQL(
            "ALTER TABLE {}.webhook_subscriptions ADD COLUMN IF NOT EXISTS"
            " format text NOT NULL DEFAULT 'barnflow-v1'"
        ).format(_s(schema))
    )


def _data_keys(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """The per-case data keys of crypto-shredding (issue 16), so a fresh store has the table
    before the first sealed event (``DataKeys.ensure`` still creates it lazily for older code)."""
    from infra.persistence.datakeys import table_ddl

    conn.execute(table_ddl(schema))


def _evb_snapshots(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """The append-only frozen EVB quarters (issue 17 item 3)."""
    for stmt in evb_snapshot_table(schema):
        conn.execute(stmt)


def evb_snapshot_gallring(schema: str) -> list[sql.Composed]:
    """Gallring may anonymise a frozen quarter's rows of a person whose data keys it destroyed
    (``infra.ops.snapshot_gallring``): the append-only trigger lets an UPDATE through only in a
    transaction that set ``barnflow.gallring`` and only of the payload, its digest and the
    gallring columns; DELETE stays refused. The digest at freezing is kept in ``frozen_digest``."""
    s, t = _s(schema), sql.Identifier(EVB_SNAPSHOT)
    fn = sql.Identifier(f"{EVB_SNAPSHOT}_append_only")
    return [
        sql.SQL(
            "ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS frozen_digest text, "
            "ADD COLUMN IF NOT EXISTS gallrad_at timestamptz, "
            "ADD COLUMN IF NOT EXISTS gallringsbeslut text"
        ).format(s, t),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND current_setting('barnflow.gallring', true) = 'on' "
            "AND NEW.kommun = OLD.kommun AND NEW.kvartal = OLD.kvartal "
            "AND NEW.version = OLD.version AND NEW.position = OLD.position "
            "AND NEW.frozen_at = OLD.frozen_at AND NEW.reason IS NOT DISTINCT FROM OLD.reason "
            "AND NEW.frozen_digest IS NOT DISTINCT FROM coalesce(OLD.frozen_digest, OLD.digest) "
            "THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'evb_snapshot is append-only'; END $$"
        ).format(s, fn),
    ]


def _temporal_keys(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """Per-workflow keys of Temporal payloads (issue 16: shredding reaches Temporal), and the
    frozen EVB quarters' gallring columns (a shredded person's rows are anonymised)."""
    from infra.persistence.workflowkeys import table_ddl

    for stmt in (*table_ddl(schema), *evb_snapshot_gallring(schema)):
        conn.execute(stmt)


#: Complaints and lex Sarah (issue 17 item 4): ``barnflow_kvalitet_events`` and its chain.
KVALITET_APP = "barnflow_kvalitet"


def _kvalitet(conn: psycopg.Connection[Any], schema: str, env: Mapping[str, str]) -> None:
    """The record of complaints and lex Sarah rapporter (``infra.persistence.kvalitet``), created
    by its recorder like the homes' tables (migration 3)."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    factory = InfrastructureFactory.construct(env=Environment(KVALITET_APP, dict(env)))
    recorder: Any = factory.application_recorder()
    recorder.datastore.close()


#: Every migration in order. Add one by appending ``Migration(n + 1, "what and why", fn)``:
#: never edit or remove an applied one (docs/operations.md, "Schema migrations").
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: the tables of release b0a7168", _baseline),
    Migration(2, "kommun_config: every version of every kommun configuration", _kommun_configs),
    Migration(3, "barnflow_hem: the homes' events and their hash chain", _homes),
    Migration(4, "webhook_subscriptions.format: CloudEvents or barnflow-v1", _webhook_format),
    Migration(5, "barnflow_data_keys: per-case data keys (crypto-shredding)", _data_keys),
    Migration(6, "evb_snapshot: frozen EVB quarters, append-only", _evb_snapshots),
    Migration(7, "barnflow_kvalitet: complaints' and lex Sarah events and their chain", _kvalitet),
    Migration(
        8, "barnflow_temporal_keys; evb_snapshot gallring columns (issue 16)", _temporal_keys
    ),
)
LATEST = MIGRATIONS[-1].version


def applied_versions(conn: psycopg.Connection[Any], schema: str) -> set[int]:
    """The migrations the database has (empty for a store without a version table). Any
    connection will do: tuples are asked for here (the store's pool hands out dict rows)."""
    curs = conn.cursor(row_factory=tuple_row)
    row = curs.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{VERSION_TABLE}"',)
    ).fetchone()
    if not row or not row[0]:
        return set()
    rows = curs.execute(
        sql.SQL("SELECT version FROM {}.{}").format(_s(schema), sql.Identifier(VERSION_TABLE))
    ).fetchall()
    return {int(r[0]) for r in rows}


def is_current(conn: psycopg.Connection[Any], schema: str) -> bool:
    """Whether ``schema`` has every migration of this code, so every table defined here exists.

    The ``ensure_*`` helpers next to each table run its DDL only when this is false (a store
    opened without ``infra.bootstrap.open_store``, as the tests' stores are): DDL on objects that
    exist is not harmless. ``CREATE OR REPLACE FUNCTION``/``TRIGGER`` rewrites catalog rows, and
    two processes doing it at once fail one of them ("tuple concurrently updated", or a
    deadlock); ``CREATE INDEX IF NOT EXISTS`` takes a SHARE lock on its table first. Only
    ``migrate``, under the start-up lock, creates on a store that services use."""
    return LATEST in applied_versions(conn, schema)


def migrate(url: str, schema: str, env: Mapping[str, str]) -> list[int]:
    """Bring the database to ``LATEST``; the versions applied now (oldest first).

    The caller holds the start-up advisory lock (``infra.bootstrap.startup_lock``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_s(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (version integer PRIMARY KEY, "
                "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(_s(schema), sql.Identifier(VERSION_TABLE))
        )
        have = applied_versions(conn, schema)
        newer = sorted(v for v in have if v > LATEST)
        if newer:
            raise SchemaTooNew(
                f"database schema {schema!r} is at version {newer[-1]}, newer than this "
                f"barnflow ({LATEST}): upgrade barnflow"
            )
        done = []
        for migration in MIGRATIONS:
            if migration.version in have:
                continue
            with conn.transaction():
                migration.apply(conn, schema, env)
                conn.execute(
                    sql.SQL("INSERT INTO {}.{} (version, description) VALUES (%s, %s)").format(
                        _s(schema), sql.Identifier(VERSION_TABLE)
                    ),
                    (migration.version, migration.description),
                )
            done.append(migration.version)
    return done


def schema_version(url: str, schema: str) -> int:
    """The highest applied migration (0: a store from before schema versions)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return max(applied_versions(conn, schema), default=0)
