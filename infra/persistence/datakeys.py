"""Per-case data keys, wrapped by the kommun's key, that gallring destroys (crypto-shredding;
docs/security.md "Data keys and gallring").

Every case has one data key per key bucket (``domain.retention.key_bucket``: ``placering``,
``utredning``, ``personakt``, and ``identitet`` for the child's identity), created the first
time an event of that bucket has something to seal. The raw key never touches the database: the
row holds it encrypted ("wrapped") with the store's cipher ``Keyring`` (the kommun's key, with its
retired keys for rotation). Gallring sets ``wrapped`` to NULL: from then on no key the kommun
holds can open the bucket's sealed fields, in this database or in any copy of the event rows.

A sealed token is ``BFS1.<key id>.<base64 nonce | AES-256-GCM ciphertext>``; the case id and
bucket are the GCM associated data, so a token moved to another case or bucket fails to open.
Unwrapped keys are cached in the process for ``CACHE_SECONDS`` at most: another process notices
a destroyed key within that time (a gallring run waits it out before it reports done), and an
expired key leaves the process's memory at the cache's next use (``infra.persistence.keycache``;
at most ``CACHE_SIZE`` keys are held).
"""

from __future__ import annotations

import base64
import contextlib
import threading
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

from infra.persistence.cipher import Keyring
from infra.persistence.keycache import ExpiringCache
from infra.persistence.nonces import GCM_NONCES

TABLE = "barnflow_data_keys"
SEAL_MAGIC = "BFS1"
NONCE_LEN = 12
#: How long an unwrapped key stays in a process's memory before it is read again.
CACHE_SECONDS = 30.0
#: Unwrapped keys, and which key is a case's bucket's, a process holds at most (the oldest put is
#: dropped first). A bulk import's batch (2,000 lines) and ``ops stuck``'s (2,000 cases) fit.
CACHE_SIZE = 65_536

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class SealError(ValueError):
    """A sealed token is malformed or fails authentication (altered or moved)."""


@dataclass(frozen=True)
class DataKeyRow:
    """One data key as stored (never the raw key)."""

    key_id: str
    kommun: str
    case_id: str
    bucket: str
    created_at: datetime
    shredded_at: datetime | None
    gallringsbeslut: str | None


def table_ddl(schema: str) -> sql.Composed:
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {}.{} (key_id text PRIMARY KEY, kommun text NOT NULL, "
        "case_id uuid NOT NULL, bucket text NOT NULL, wrapped bytea, "
        "created_at timestamptz NOT NULL DEFAULT now(), shredded_at timestamptz, "
        "gallringsbeslut text, UNIQUE (case_id, bucket))"
    ).format(sql.Identifier(schema), sql.Identifier(TABLE))


class DataKeys:
    """The data key table of one store schema, with the keyring that wraps its keys."""

    def __init__(self, connect: Connect, schema: str, keyring: Keyring) -> None:
        self._connect = connect
        self._schema = schema
        self._keyring = keyring
        self._ready = False
        self._ensure_lock = threading.Lock()
        #: key id -> the unwrapped key (``None``: destroyed), for ``CACHE_SECONDS``
        self._cache: ExpiringCache[str, bytes | None] = ExpiringCache(CACHE_SECONDS, CACHE_SIZE)
        #: (case id, bucket) -> key id, for as long as the key: not secret, but about 650 bytes a
        #: case, which a worker kept for every case it touched until the bound (40 MB)
        self._by_bucket: ExpiringCache[tuple[str, str], str] = ExpiringCache(
            CACHE_SECONDS, CACHE_SIZE
        )

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(t=sql.SQL("{}.{}").format(
            sql.Identifier(self._schema), sql.Identifier(TABLE)))  # fmt: skip

    def ensure(self) -> None:
        """Create the table once per process (it is also created by the schema migration).
        Serialised: two threads creating it at once collide in PostgreSQL's catalogue even with
        ``IF NOT EXISTS`` (the first appends of a new store, in parallel activities)."""
        if self._ready:
            return
        with self._ensure_lock:
            if not self._ready:
                with self._connect() as conn:
                    conn.execute(table_ddl(self._schema))
                self._ready = True

    # ------------------------------------------------------------------ sealing
    def seal(self, kommun: str, case_id: str, bucket: str, fields: dict[str, Any]) -> str:
        """Encrypt ``fields`` under the case's key for ``bucket`` (created if missing)."""
        key_id, key = self._key_for(kommun, case_id, bucket)
        plain = orjson.dumps(fields)
        nonce = self._nonce(case_id, bucket, plain)
        body = AESGCM(key).encrypt(nonce, plain, _aad(case_id, bucket))
        return f"{SEAL_MAGIC}.{key_id}.{base64.b64encode(nonce + body).decode()}"

    def _nonce(self, case_id: str, bucket: str, plaintext: bytes) -> bytes:
        """A fresh GCM nonce (random, many per system call: ``infra.persistence.nonces``; a test
        overrides it to compare two imports' chains)."""
        return GCM_NONCES.draw()

    def _new_key(self, case_id: str, bucket: str) -> tuple[str, bytes]:
        """A new data key and its id (random; a test overrides it like ``_nonce``)."""
        return uuid.uuid4().hex[:16], AESGCM.generate_key(bit_length=256)

    def prepare(self, wanted: Iterable[tuple[str, str, str]]) -> None:
        """Make sure the data keys of many ``(kommun, case_id, bucket)`` exist and sit in this
        process's cache, in two statements instead of two per key (a bulk import seals the
        events of thousands of cases). Keys are created exactly as ``seal`` creates one, and a
        key destroyed by gallring stays destroyed: ``seal`` refuses it as before."""
        todo = {(c, b): k for k, c, b in wanted if (c, b) not in self._by_bucket}
        if not todo:
            return
        self.ensure()
        fresh: dict[tuple[str, str], tuple[str, bytes]] = {}
        key_ids: list[str] = []
        kommuner: list[str] = []
        case_ids: list[str] = []
        buckets: list[str] = []
        wrapped_keys: list[bytes] = []
        for (case_id, bucket), kommun in todo.items():
            key_id, key = fresh[(case_id, bucket)] = self._new_key(case_id, bucket)
            key_ids.append(key_id)
            kommuner.append(kommun)
            case_ids.append(case_id)
            buckets.append(bucket)
            wrapped_keys.append(self._keyring.encrypt(key))
        with self._connect() as conn:
            # one statement each way, whatever the batch's size: arrays, not one row per key
            conn.execute(
                self._q(
                    "INSERT INTO {t} (key_id, kommun, case_id, bucket, wrapped) "
                    "SELECT * FROM unnest(%s::text[], %s::text[], %s::uuid[], %s::text[], "
                    "%s::bytea[]) ON CONFLICT (case_id, bucket) DO NOTHING"
                ),
                [key_ids, kommuner, case_ids, buckets, wrapped_keys],
            )
            found = conn.execute(
                self._q(
                    "SELECT key_id, case_id, bucket, wrapped FROM {t} WHERE (case_id, bucket) "
                    "IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"
                ),
                [case_ids, buckets],
            ).fetchall()
        for row in found:
            pair = (str(_col(row, "case_id")), str(_col(row, "bucket")))
            wrapped = _col(row, "wrapped")
            if pair not in todo or wrapped is None:
                continue  # a key destroyed by gallring stays destroyed: ``seal`` refuses it
            key_id = str(_col(row, "key_id"))
            mine = fresh[pair]
            # the key this call created is known; one another writer created first is unwrapped
            key = mine[1] if mine[0] == key_id else self._keyring.decrypt(bytes(wrapped))
            self._by_bucket.put(pair, key_id)
            self._cache.put(key_id, key)

    def open(self, token: str, case_id: str, bucket: str) -> dict[str, Any] | None:
        """The sealed fields, or ``None`` when the bucket's key was destroyed by gallring."""
        key_id, raw = _parse(token)
        key = self.key(key_id)
        if key is None:
            return None
        try:
            plain = AESGCM(key).decrypt(raw[:NONCE_LEN], raw[NONCE_LEN:], _aad(case_id, bucket))
        except InvalidTag as exc:
            raise SealError(f"a sealed field under data key {key_id} fails authentication") from exc
        out: dict[str, Any] = orjson.loads(plain)
        return out

    def key(self, key_id: str) -> bytes | None:
        """The unwrapped key, ``None`` once destroyed (cached for ``CACHE_SECONDS``)."""
        with contextlib.suppress(KeyError):
            return self._cache.get(key_id)
        self.ensure()
        with self._connect() as conn:
            row = conn.execute(self._q("SELECT wrapped FROM {t} WHERE key_id = %s"),
                               [key_id]).fetchone()  # fmt: skip
        if row is None:
            raise SealError(f"data key {key_id} is not in {TABLE}")
        wrapped = _col(row, "wrapped")
        key = None if wrapped is None else self._keyring.decrypt(bytes(wrapped))
        self._cache.put(key_id, key)
        return key

    def _key_for(self, kommun: str, case_id: str, bucket: str) -> tuple[str, bytes]:
        try:
            known = self._by_bucket.get((case_id, bucket))
        except KeyError:
            pass
        else:
            key = self.key(known)
            if key is not None:
                return known, key
        self.ensure()
        new_id, new_key = self._new_key(case_id, bucket)
        with self._connect() as conn:
            conn.execute(
                self._q(
                    "INSERT INTO {t} (key_id, kommun, case_id, bucket, wrapped) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (case_id, bucket) DO NOTHING"
                ),
                [new_id, kommun, case_id, bucket, self._keyring.encrypt(new_key)],
            )
            row = conn.execute(
                self._q("SELECT key_id, wrapped FROM {t} WHERE case_id = %s AND bucket = %s"),
                [case_id, bucket],
            ).fetchone()
        if row is None or _col(row, "wrapped") is None:
            # 16:1: a bucket already gallrad stays gallrad; a new entry of that class after
            # gallring (none is expected: the case is closed) would need a new bucket generation.
            raise SealError(f"the {bucket} data key of case {case_id} was destroyed by gallring")
        key_id = str(_col(row, "key_id"))
        key = self._keyring.decrypt(bytes(_col(row, "wrapped")))
        self._by_bucket.put((case_id, bucket), key_id)
        self._cache.put(key_id, key)
        return key_id, key

    def load(self, case_ids: Iterable[uuid.UUID | str], bucket: str) -> None:
        """Read the keys of many cases' ``bucket`` into this process's cache in one SELECT:
        a scan unsealing thousands of cases (``ops stuck``'s opening events) would otherwise
        read them one SELECT each. Cached as ``key`` caches one (a destroyed key as ``None``),
        for ``CACHE_SECONDS``."""
        ids = sorted({c if isinstance(c, uuid.UUID) else uuid.UUID(c) for c in case_ids})
        if not ids:
            return
        self.ensure()
        with self._connect() as conn:
            found = conn.execute(
                self._q("SELECT key_id, wrapped FROM {t} WHERE bucket = %s AND case_id = ANY(%s)"),
                [bucket, ids],
            ).fetchall()
        for row in found:
            wrapped = _col(row, "wrapped")
            key = None if wrapped is None else self._keyring.decrypt(bytes(wrapped))
            self._cache.put(str(_col(row, "key_id")), key)

    # ------------------------------------------------------------------ gallring
    def rows(self, case_ids: Iterable[str] | None = None) -> list[DataKeyRow]:
        """The key rows (of ``case_ids``, or all), never the keys."""
        self.ensure()
        query = self._q(
            "SELECT key_id, kommun, case_id, bucket, created_at, shredded_at, gallringsbeslut "
            "FROM {t}"
        )
        params: list[Any] = []
        if case_ids is not None:
            query += sql.SQL(" WHERE case_id = ANY(%s)")
            params.append([uuid.UUID(c) for c in case_ids])
        query += sql.SQL(" ORDER BY case_id, bucket")
        with self._connect() as conn:
            found = conn.execute(query, params).fetchall()
        return [
            DataKeyRow(
                str(_col(r, "key_id")),
                str(_col(r, "kommun")),
                str(_col(r, "case_id")),
                str(_col(r, "bucket")),
                _col(r, "created_at"),
                _col(r, "shredded_at"),
                _col(r, "gallringsbeslut"),
            )
            for r in found
        ]

    def shred(self, key_id: str, gallringsbeslut: str) -> bool:
        """Destroy one data key (idempotent): ``True`` if this call destroyed it."""
        self.ensure()
        with self._connect() as conn:
            done = conn.execute(
                self._q(
                    "UPDATE {t} SET wrapped = NULL, shredded_at = now(), gallringsbeslut = %s "
                    "WHERE key_id = %s AND wrapped IS NOT NULL"
                ),
                [gallringsbeslut, key_id],
            ).rowcount
        self._cache.pop(key_id)
        self._by_bucket.drop_where(lambda known: known == key_id)
        return bool(done)

    def vacuum(self) -> None:
        """Rewrite the table's pages so the destroyed wrapped keys leave the live heap (they
        remain in WAL and backups until those expire: docs/security.md)."""
        with self._connect() as conn:
            conn.execute(sql.SQL("VACUUM {}.{}").format(
                sql.Identifier(self._schema), sql.Identifier(TABLE)))  # fmt: skip


def _aad(case_id: str, bucket: str) -> bytes:
    return f"barnflow-seal|{case_id}|{bucket}".encode()


def token_key_id(token: str) -> str:
    """The id of the data key a sealed token was made with (no key needed)."""
    return _parse(token)[0]


def _parse(token: str) -> tuple[str, bytes]:
    prefix, sep, rest = token.partition(".")
    key_id, sep2, body = rest.partition(".")
    if prefix != SEAL_MAGIC or not sep or not sep2 or not key_id:
        raise SealError("not a sealed token")
    return key_id, base64.b64decode(body)


def _col(row: Any, name: str) -> Any:
    """A column of a row from the store's pool (``dict_row``)."""
    return row[name]


def rewrap(conn: psycopg.Connection[Any], schema: str, keyring: Keyring, table: str = TABLE) -> int:
    """Re-wrap every live data key not under the keyring's current key (``barnflow keys
    rotate --apply``), so the retired cipher key can be dropped. Destroyed keys stay NULL.
    ``table`` is this module's table or the workflow keys' (``infra.persistence.workflowkeys``),
    which have the same ``key_id``/``wrapped`` columns."""
    ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    exists = conn.execute("SELECT to_regclass(%s)", [f'"{schema}".{table}']).fetchone()
    if exists is None or exists[0] is None:
        return 0
    header = keyring.current_header
    with conn.transaction():
        rows = conn.execute(
            sql.SQL(
                "SELECT key_id, wrapped FROM {} WHERE wrapped IS NOT NULL "
                "AND substring(wrapped FROM 1 FOR {}) <> %s FOR UPDATE"
            ).format(ident, sql.Literal(len(header))),
            [header],
        ).fetchall()
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("UPDATE {} SET wrapped = %s WHERE key_id = %s").format(ident),
                [(keyring.encrypt(keyring.decrypt(bytes(w))), k) for k, w in rows],
            )
    return len(rows)
