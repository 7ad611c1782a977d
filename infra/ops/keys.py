"""Key rotation of the event store: re-encrypt every stored event and snapshot under the current
cipher key, in batches under a lock timeout, so that an old key can be retired. The inventory
says which key ids still hold data; ``barnflow keys rotate`` is its CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from infra.persistence.cipher import HEADER_LEN, MAGIC, CipherKeyError, Keyring
from infra.persistence.datakeys import rewrap as rewrap_data_keys
from infra.persistence.schema import HOMES_APP, KVALITET_APP
from infra.persistence.store import APP_NAME, EVENTS_TABLE
from infra.persistence.workflowkeys import TABLE as WORKFLOW_KEYS_TABLE

#: Tables whose ``state`` column eventsourcing encrypts (snapshots exist only if enabled).
#: the homes' events (``infra.persistence.homes``) and the complaints' and lex Sarah events
#: (``infra.persistence.kvalitet``) are sealed with the same keys
ENCRYPTED_TABLES = (
    EVENTS_TABLE,
    f"{APP_NAME}_snapshots",
    f"{HOMES_APP}_events",
    f"{KVALITET_APP}_events",
)
DEFAULT_BATCH = 500
LOCK_TIMEOUT = "10s"
_FIRST = (UUID(int=0), -1)


class RotationError(Exception):
    """Rotation cannot go on; the message is one line and names what to do."""


@dataclass
class Inventory:
    """How many stored rows are under which key: ``current``, a hex key id, or ``legacy``."""

    by_key: dict[str, int] = field(default_factory=dict)
    current_key_id: str = ""

    @property
    def total(self) -> int:
        return sum(self.by_key.values())

    @property
    def pending(self) -> int:
        return self.total - self.by_key.get(self.current_key_id, 0)


@dataclass(frozen=True)
class RotationResult:
    before: Inventory
    rotated: int
    batches: int
    after: Inventory


# ---------------------------------------------------------------------------- database side
def _existing_tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_name = ANY(%s)",
        (schema, list(ENCRYPTED_TABLES)),
    ).fetchall()
    present = {r[0] for r in rows}
    return [t for t in ENCRYPTED_TABLES if t in present]


def inventory(conn: psycopg.Connection[Any], schema: str, keyring: Keyring) -> Inventory:
    """Count rows per key id, and prove each group readable by decrypting one row of it."""
    inv = Inventory(current_key_id=keyring.current_key_id)
    for table in _existing_tables(conn, schema):
        kid_expr = sql.SQL(
            "CASE WHEN substring(state FROM 1 FOR {m}) = %s "
            "THEN substring(state FROM {m1} FOR {k}) END"
        ).format(
            m=sql.Literal(len(MAGIC)),
            m1=sql.Literal(len(MAGIC) + 1),
            k=sql.Literal(HEADER_LEN - len(MAGIC)),
        )
        ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts = dict(
            conn.execute(
                sql.SQL("SELECT {k} AS kid, count(*) FROM {t} GROUP BY 1").format(
                    k=kid_expr, t=ident
                ),
                (MAGIC,),
            ).fetchall()
        )
        samples = conn.execute(
            sql.SQL("SELECT DISTINCT ON (1) {k} AS kid, state FROM {t} ORDER BY 1").format(
                k=kid_expr, t=ident
            ),
            (MAGIC,),
        ).fetchall()
        rows = [(kid, counts[kid], sample) for kid, sample in samples]
        for kid, count, sample in rows:
            name = bytes(kid).hex() if kid is not None else "legacy"
            try:
                keyring.decrypt(bytes(sample))
            except CipherKeyError as exc:
                raise RotationError(f"{count} stored event(s): {exc}") from exc
            inv.by_key[name] = inv.by_key.get(name, 0) + int(count)
    return inv


def _rotate_batch(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    keyring: Keyring,
    *,
    after: tuple[UUID, int],
    limit: int,
) -> tuple[int, tuple[UUID, int]]:
    """Re-encrypt up to ``limit`` rows after ``after`` in one transaction under the table lock."""
    ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        # The lock eventsourcing's recorder takes for every insert: no append runs meanwhile.
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(ident))
        rows = conn.execute(
            sql.SQL(
                "SELECT originator_id, originator_version, state FROM {} "
                "WHERE (originator_id, originator_version) > (%s, %s) "
                "AND substring(state FROM 1 FOR {}) <> %s "
                "ORDER BY originator_id, originator_version LIMIT %s"
            ).format(ident, sql.Literal(HEADER_LEN)),
            (after[0], after[1], keyring.current_header, limit),
        ).fetchall()
        if not rows:
            return 0, after
        updates = [
            (keyring.encrypt(keyring.decrypt(bytes(state))), oid, ver) for oid, ver, state in rows
        ]
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "UPDATE {} SET state = %s WHERE originator_id = %s AND originator_version = %s"
                ).format(ident),
                updates,
            )
    return len(rows), (rows[-1][0], rows[-1][1])


def rotate(
    url: str,
    schema: str,
    keyring: Keyring,
    *,
    batch_size: int = DEFAULT_BATCH,
    apply: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RotationResult:
    """Re-encrypt every row not under the current key (``apply``), or only count them."""
    with psycopg.connect(url, autocommit=True) as conn:  # each batch its own transaction
        before = inventory(conn, schema, keyring)
        rotated = batches = 0
        if apply and before.pending:
            for table in _existing_tables(conn, schema):
                cursor = _FIRST
                while True:
                    try:
                        done, cursor = _rotate_batch(
                            conn, schema, table, keyring, after=cursor, limit=batch_size
                        )
                    except psycopg.errors.LockNotAvailable as exc:
                        raise RotationError(
                            f"could not lock {table} within {LOCK_TIMEOUT} (busy writers); "
                            f"{rotated} event(s) done so far, run again to resume"
                        ) from exc
                    if not done:
                        break
                    rotated += done
                    batches += 1
                    if progress is not None:
                        progress(rotated)
        if apply:  # the data keys gallring destroys are wrapped by the same key
            rewrap_data_keys(conn, schema, keyring)
            rewrap_data_keys(conn, schema, keyring, WORKFLOW_KEYS_TABLE)
        after = inventory(conn, schema, keyring) if apply else before
    return RotationResult(before, rotated, batches, after)


# ---------------------------------------------------------------------------- commands
