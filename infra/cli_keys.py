"""``barnflow keys``: generate keys and re-encrypt the event store under a new cipher key.

Rotation is two steps an operator can take at their own pace: (1) make the new key current and
keep the old one in ``BARNFLOW_CIPHER_OLD_KEYS`` (everything stays readable, new rows use the new
key); (2) ``barnflow keys rotate --apply`` re-encrypts the old rows, after which the old key can be
destroyed. Step 2 works in bounded batches, each one transaction holding eventsourcing's table
lock (no append interleaves with a rewrite), so it can be stopped and started again at any time:
the rows still to do are found by their key id, without decrypting anything.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import MapperDeserialisationError
from psycopg import sql

from infra.cipher import HEADER_LEN, MAGIC, CipherKeyError, Keyring
from infra.settings import (
    ENV_CIPHER_KEY,
    ENV_CIPHER_OLD_KEYS,
    ENV_CODEC_KEY,
    ENV_PSEUDONYM_KEY,
    load_settings,
)
from infra.store import APP_NAME, EVENTS_TABLE

#: Tables whose ``state`` column eventsourcing encrypts (snapshots exist only if enabled).
ENCRYPTED_TABLES = (EVENTS_TABLE, f"{APP_NAME}_snapshots")
DEFAULT_BATCH = 500
LOCK_TIMEOUT = "10s"
_FIRST = (UUID(int=0), -1)
_KEY_ENV = {"codec": ENV_CODEC_KEY, "pseudonym": ENV_PSEUDONYM_KEY, "cipher": ENV_CIPHER_KEY}


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
        after = inventory(conn, schema, keyring) if apply else before
    return RotationResult(before, rotated, batches, after)


# ---------------------------------------------------------------------------- commands
def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``keys generate``, ``keys rotate`` and ``codec-server`` to the barnflow CLI."""
    keys_p = subparsers.add_parser("keys", help="generate keys, rotate the event-store key")
    sub = keys_p.add_subparsers(dest="keys_command", required=True)
    gen = sub.add_parser("generate", help="print fresh keys as environment assignments")
    gen.add_argument("--only", choices=tuple(_KEY_ENV), default=None, help="just this key")
    gen.set_defaults(func=cmd_generate)
    rot = sub.add_parser(
        "rotate", help="re-encrypt stored events with BARNFLOW_CIPHER_KEY (dry run by default)"
    )
    rot.add_argument("--apply", action="store_true", help="re-encrypt (default: only count)")
    rot.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH)
    rot.set_defaults(func=cmd_rotate)

    from infra import codec_server

    codec_server.register(subparsers)


def _batch_size(text: str) -> int:
    try:
        n = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 1 <= n <= 10_000:
        raise argparse.ArgumentTypeError("between 1 and 10000")
    return n


def cmd_generate(args: argparse.Namespace) -> int:
    """Fresh 32-byte keys. The pseudonym key is not rotated lightly: it names the workflows."""
    names = [args.only] if args.only else list(_KEY_ENV)
    for name in names:
        print(f"{_KEY_ENV[name]}={base64.b64encode(secrets.token_bytes(32)).decode()}")
    print(
        "# store these in the kommun's secret store; to rotate the cipher key, move the old "
        f"value to {ENV_CIPHER_OLD_KEYS} and run `barnflow keys rotate --apply`",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _database_url() -> Iterator[tuple[str, str, Keyring]]:
    """The configured or embedded database (not ``bootstrap``: no Temporal, no projections)."""
    from infra.embedded_pg import embedded_postgres

    settings = load_settings()
    keyring = Keyring(settings.keys.cipher, settings.keys.cipher_old)
    if settings.database.url is not None:
        yield settings.database.url, settings.database.schema, keyring
        return
    with embedded_postgres(settings.home) as url:
        yield url, settings.database.schema, keyring


def _describe(inv: Inventory) -> str:
    parts = []
    for kid, n in sorted(inv.by_key.items()):
        label = (
            "current"
            if kid == inv.current_key_id
            else ("no key id" if kid == "legacy" else "retired")
        )
        parts.append(f"{n} under {kid} ({label})")
    return ", ".join(parts) or "no stored events"


def cmd_rotate(args: argparse.Namespace) -> int:
    try:
        with _database_url() as (url, schema, keyring):
            result = rotate(
                url,
                schema,
                keyring,
                batch_size=args.batch_size,
                apply=args.apply,
                progress=lambda n: print(f"  re-encrypted {n}", file=sys.stderr),
            )
    except (RotationError, CipherKeyError, MapperDeserialisationError) as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    before = result.before
    print(
        f"current cipher key id {before.current_key_id}; {before.total} stored events: "
        f"{_describe(before)}"
    )
    if not args.apply:
        print(f"dry run: {before.pending} event(s) would be re-encrypted; add --apply to do it")
        return 0
    print(
        f"re-encrypted {result.rotated} event(s) in {result.batches} batch(es); "
        f"{result.after.pending} remain under other keys"
    )
    return 0 if result.after.pending == 0 else 1
