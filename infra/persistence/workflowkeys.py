"""Per-workflow data keys for Temporal payloads, wrapped like the cases' data keys, that gallring
destroys with the child's identity key (crypto-shredding reaches Temporal; docs/security.md
"Temporal payloads under data keys").

A case workflow's id is ``barnarende-<kommun>-<pseudonym>``: one workflow per child and kommun,
which may carry several cases. Its payloads (inputs, activity arguments and results, markers,
failures) are encrypted by the codec (``infra.temporal.codec``) under this workflow's key. The row
holds the key wrapped by the store's cipher ``Keyring`` (the kommun's key), exactly as
``barnflow_data_keys`` does; gallring sets ``wrapped`` to NULL, and from then on no key the kommun
holds opens the workflow's history, in Temporal's database or in any copy of it.

A workflow whose key was destroyed and that is started again (the child comes back years later)
gets a new key generation: at most one live key per workflow id (a partial unique index), old
generations stay as destroyed rows. ``case_ids`` lists the cases gallring linked to the key
before destroying it, so an interrupted run can still name the key in its event.

Unwrapped keys are cached per process for ``CACHE_SECONDS`` at most and leave its memory at the
cache's next use after that, at most ``CACHE_SIZE`` of each kind, like the cases' data keys
(``infra.persistence.keycache``).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

from infra.persistence.cipher import Keyring
from infra.persistence.datakeys import CACHE_SECONDS, Connect
from infra.persistence.keycache import ExpiringCache

TABLE = "barnflow_temporal_keys"
#: Prefix of a workflow key's id in payload metadata: the codec tells these from cluster keys.
KEY_ID_PREFIX = "wk-"
#: Case workflows (``domain.ids.workflow_id_for``); other workflows keep the cluster key.
CASE_WORKFLOW = re.compile(r"^barnarende-(\d{4})-[A-Za-z0-9_\-]+$")
#: Unwrapped keys a process keeps at most (the oldest put is dropped first).
CACHE_SIZE = 4096


class WorkflowKeyError(ValueError):
    """A workflow key is unknown to the key store (another database, or a wrong store)."""


@dataclass(frozen=True)
class WorkflowKey:
    """One unwrapped key (``key`` is ``None`` once destroyed by gallring)."""

    key_id: str
    workflow_id: str
    key: bytes | None
    gallringsbeslut: str | None = None


@dataclass(frozen=True)
class WorkflowKeyRow:
    """One workflow key as stored (never the raw key)."""

    key_id: str
    kommun: str
    workflow_id: str
    created_at: datetime
    shredded_at: datetime | None
    gallringsbeslut: str | None
    case_ids: tuple[str, ...]


def table_ddl(schema: str) -> list[sql.Composed]:
    t = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(TABLE))
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (key_id text PRIMARY KEY, kommun text NOT NULL, "
            "workflow_id text NOT NULL, wrapped bytea, "
            "created_at timestamptz NOT NULL DEFAULT now(), shredded_at timestamptz, "
            "gallringsbeslut text, case_ids uuid[] NOT NULL DEFAULT '{{}}')"
        ).format(t),
        sql.SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (workflow_id) WHERE wrapped IS NOT NULL"
        ).format(sql.Identifier(f"{TABLE}_live"), t),
    ]


def is_case_workflow(workflow_id: str | None) -> bool:
    return bool(workflow_id) and CASE_WORKFLOW.match(workflow_id or "") is not None


def aad(workflow_id: str) -> bytes:
    """The GCM associated data: a payload moved to another workflow's history fails to open."""
    return f"barnflow-temporal|{workflow_id}".encode()


class WorkflowKeys:
    """The workflow key table of one store schema, with the keyring that wraps its keys."""

    def __init__(self, connect: Connect, schema: str, keyring: Keyring) -> None:
        self._connect = connect
        self._schema = schema
        self._keyring = keyring
        self._ready = False
        self._ensure_lock = threading.Lock()
        self._by_id: ExpiringCache[str, WorkflowKey] = ExpiringCache(CACHE_SECONDS, CACHE_SIZE)
        self._live: ExpiringCache[str, WorkflowKey] = ExpiringCache(CACHE_SECONDS, CACHE_SIZE)

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(t=sql.SQL("{}.{}").format(
            sql.Identifier(self._schema), sql.Identifier(TABLE)))  # fmt: skip

    def ensure(self) -> None:
        """Create the table once per process (migration 8 also creates it). Serialised: two
        threads creating the same index at once would collide in PostgreSQL's catalogue, even
        with ``IF NOT EXISTS`` (the codec asks from several threads for a new store's first
        workflows)."""
        if self._ready:
            return
        with self._ensure_lock:
            if not self._ready:
                with self._connect() as conn:
                    for stmt in table_ddl(self._schema):
                        conn.execute(stmt)
                self._ready = True

    # ------------------------------------------------------------------ cache
    def _cached(self, cache: ExpiringCache[str, WorkflowKey], name: str) -> WorkflowKey | None:
        try:
            return cache.get(name)
        except KeyError:
            return None

    def clear_cache(self) -> None:
        """Forget every unwrapped key (the next look reads the table, as a new process would)."""
        self._by_id.clear()
        self._live.clear()

    # ------------------------------------------------------------------ codec
    def cached_live_key(self, workflow_id: str) -> WorkflowKey | None:
        """``live_key`` if this process holds it unexpired, else ``None``; never reads, so the
        codec on the event loop needs no hand-off to a thread for a workflow it has seen."""
        return self._cached(self._live, workflow_id)

    def cached_key(self, key_id: str) -> WorkflowKey | None:
        """``key`` if this process holds it unexpired, else ``None``; never reads."""
        return self._cached(self._by_id, key_id)

    def live_key(self, workflow_id: str) -> WorkflowKey:
        """The workflow's live key, created if it has none (a new generation after gallring)."""
        hit = self.cached_live_key(workflow_id)
        if hit is not None:
            return hit
        match = CASE_WORKFLOW.match(workflow_id)
        if match is None:
            raise WorkflowKeyError(f"{workflow_id!r} is not a case workflow id")
        self.ensure()
        new_id = KEY_ID_PREFIX + uuid.uuid4().hex[:16]
        new_key = AESGCM.generate_key(bit_length=256)
        with self._connect() as conn:
            conn.execute(
                self._q(
                    "INSERT INTO {t} (key_id, kommun, workflow_id, wrapped) "
                    "VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (workflow_id) WHERE wrapped IS NOT NULL DO NOTHING"
                ),
                [new_id, match.group(1), workflow_id, self._keyring.encrypt(new_key)],
            )
            row = conn.execute(
                self._q(
                    "SELECT key_id, wrapped FROM {t} WHERE workflow_id = %s AND wrapped IS NOT NULL"
                ),
                [workflow_id],
            ).fetchone()
        if row is None:  # destroyed between the insert and the read: very unlikely; say so
            raise WorkflowKeyError(f"the key of workflow {workflow_id} was destroyed just now")
        found = WorkflowKey(
            str(row["key_id"]), workflow_id, self._keyring.decrypt(bytes(row["wrapped"]))
        )
        self._live.put(workflow_id, found)
        self._by_id.put(found.key_id, found)
        return found

    def key(self, key_id: str) -> WorkflowKey:
        """The key by id; ``key`` is ``None`` once destroyed. Unknown: ``WorkflowKeyError``."""
        hit = self.cached_key(key_id)
        if hit is not None:
            return hit
        self.ensure()
        with self._connect() as conn:
            row = conn.execute(
                self._q("SELECT workflow_id, wrapped, gallringsbeslut FROM {t} WHERE key_id = %s"),
                [key_id],
            ).fetchone()
        if row is None:
            raise WorkflowKeyError(f"workflow key {key_id} is not in {TABLE}")
        wrapped = row["wrapped"]
        found = WorkflowKey(
            key_id,
            str(row["workflow_id"]),
            None if wrapped is None else self._keyring.decrypt(bytes(wrapped)),
            row["gallringsbeslut"],
        )
        self._by_id.put(key_id, found)
        return found

    # ------------------------------------------------------------------ gallring
    def rows(
        self, workflow_ids: Iterable[str] | None = None, case_id: str | None = None
    ) -> list[WorkflowKeyRow]:
        """The key rows (of ``workflow_ids``, or linked to ``case_id``, or all), never keys."""
        self.ensure()
        query = self._q(
            "SELECT key_id, kommun, workflow_id, created_at, shredded_at, gallringsbeslut, "
            "case_ids FROM {t} WHERE true"
        )
        params: list[Any] = []
        if workflow_ids is not None:
            query += sql.SQL(" AND workflow_id = ANY(%s)")
            params.append(list(workflow_ids))
        if case_id is not None:
            query += sql.SQL(" AND %s = ANY(case_ids)")
            params.append(uuid.UUID(case_id))
        query += sql.SQL(" ORDER BY workflow_id, created_at")
        with self._connect() as conn:
            found = conn.execute(query, params).fetchall()
        return [
            WorkflowKeyRow(
                str(r["key_id"]),
                str(r["kommun"]),
                str(r["workflow_id"]),
                r["created_at"],
                r["shredded_at"],
                r["gallringsbeslut"],
                tuple(str(c) for c in r["case_ids"]),
            )
            for r in found
        ]

    def linked_cases(self) -> dict[uuid.UUID, str]:
        """Case id → workflow id, for every case gallring linked to a workflow key: after the
        child's identity key is destroyed this link is the only way from the case to its
        workflow id (the id is a pseudonym of the identity). One SELECT."""
        self.ensure()
        with self._connect() as conn:
            found = conn.execute(
                self._q(
                    "SELECT DISTINCT unnest(case_ids) AS case_id, workflow_id FROM {t} "
                    "WHERE cardinality(case_ids) > 0"
                )
            ).fetchall()
        return {r["case_id"]: str(r["workflow_id"]) for r in found}

    def link(self, key_id: str, case_ids: Iterable[str]) -> None:
        """Record which cases' gallring destroys this key (before it is destroyed)."""
        self.ensure()
        with self._connect() as conn:
            conn.execute(
                self._q(
                    "UPDATE {t} SET case_ids = ARRAY(SELECT DISTINCT unnest(case_ids || %s)) "
                    "WHERE key_id = %s"
                ),
                [[uuid.UUID(c) for c in case_ids], key_id],
            )

    def shred(self, key_id: str, gallringsbeslut: str) -> bool:
        """Destroy one workflow key (idempotent): ``True`` if this call destroyed it."""
        self.ensure()
        with self._connect() as conn:
            done = conn.execute(
                self._q(
                    "UPDATE {t} SET wrapped = NULL, shredded_at = now(), gallringsbeslut = %s "
                    "WHERE key_id = %s AND wrapped IS NOT NULL"
                ),
                [gallringsbeslut, key_id],
            ).rowcount
        self._by_id.pop(key_id)
        self._live.drop_where(lambda live: live.key_id == key_id)
        return bool(done)

    def vacuum(self) -> None:
        """Rewrite the table's pages so destroyed wrapped keys leave the live heap."""
        with self._connect() as conn:
            conn.execute(sql.SQL("VACUUM {}.{}").format(
                sql.Identifier(self._schema), sql.Identifier(TABLE)))  # fmt: skip
