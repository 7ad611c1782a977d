"""The event store's recorder: gap-free global positions and a global hash chain.

docs/domain.md §4 promises a global, gap-free ``position``. eventsourcing's recorder takes positions
from a ``bigserial``, and a sequence value is burnt by every rolled-back insert (a version conflict
between two writers of one case, a crash mid-transaction), which leaves a hole that a reader of
the feed cannot tell from a lost event. This subclass keeps eventsourcing's table lock (EXCLUSIVE:
one writer at a time, readers unaffected) and, under it, assigns ``max(position) + 1 …`` itself,
so a transaction that rolls back has consumed nothing.

In the same transaction it appends one row per event to ``<app>_chain``: a global hash chain over
(position, stream, version, the event's per-stream digest). The per-stream chain (in the
aggregate, over the plaintext envelope) shows an altered event; this one also shows a deleted or
truncated stream tail, which a per-stream chain alone cannot.

The link hashes the *plaintext* digest, not the stored ciphertext, so re-encrypting rows under a
new key (``barnflow keys rotate``) leaves the chain valid. Nothing is lost by that: AES-GCM
authenticates the stored bytes, so a changed ciphertext fails to decrypt and ``audit verify``
names it; a row copied from elsewhere decrypts to a digest that does not match its link.
The recorder never sees plaintext: ``CaseStore`` hands it the digests (``event_digests``) with
each save, read from the events before they are encrypted.

One append is one statement (``_sql_append``): PostgreSQL reads the chain's tail, computes each
link with its ``sha256()`` (the same text ``global_link`` hashes, which ``audit verify`` and the
bulk ``COPY`` path still compute in Python) and inserts the links and the events. Reading the tail
into Python first cost one more round trip while the table lock was held, and every other
append in every process waited for it (issue 19, item 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Identifier, Literal

from infra.persistence.schema import chain_table

#: The digest before the first event of a chain.
GENESIS = "0" * 64


def chain_table_for(events_table: str) -> str:
    """``barnflow_events`` → ``barnflow_chain``."""
    return events_table.removesuffix("_events") + "_chain"


#: The keyword argument of ``insert_events`` that carries each event's per-stream digest.
DIGESTS_KWARG = "event_digests"


def global_link(prev: str, position: int, stream: str, version: int, event_digest: str) -> str:
    """One link of the global chain; ``audit verify`` recomputes exactly this."""
    body = f"{prev}|{position}|{stream}|{version}|{event_digest}"
    return hashlib.sha256(body.encode()).hexdigest()


class MissingDigests(ValueError):
    """An insert without the events' stream digests: the global chain could not be extended."""


class GapFreeRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` with positions assigned as max+1 under its table lock."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ValueError("GapFreeRecorder assigns positions in Python: disable DB functions")
        schema = Identifier(datastore.schema)
        table = Identifier(events_table_name)
        # eventsourcing creates its insert function on every open ("CREATE OR REPLACE
        # FUNCTION es_insert_events_…"), even with DB functions off: a catalog write that two
        # processes opening the store at once collide on ("tuple concurrently updated"; a
        # runner died of it next to ``projections status`` in CI). This recorder never calls
        # it, so it is not created; what remains is ``IF NOT EXISTS`` on what migrations made.
        self.sql_create_statements = [
            s
            for s in self.sql_create_statements
            if "CREATE OR REPLACE FUNCTION" not in s.as_string()
        ]
        self._sql_notify = SQL("NOTIFY {0}").format(Identifier(self.channel_name))
        self._rendered_sql: dict[str, bytes] = {}  # ``_rendered``
        self.chain_table_name = chain_table_for(events_table_name)
        chain = Identifier(self.chain_table_name)
        self.sql_create_statements.append(
            chain_table(datastore.schema, self.chain_table_name, datastore.originator_id_type)
        )
        # The chain's tail: the last position (0 in an empty store) and its link (the genesis
        # digest before the first). Read under the table lock by both writes below.
        self._sql_tail = SQL(
            "SELECT COALESCE(e.notification_id, 0) AS position, "
            "COALESCE(c.digest, {genesis}) AS digest FROM "
            "(SELECT MAX(notification_id) AS notification_id FROM {schema}.{table}) e "
            "LEFT JOIN {schema}.{chain} c ON c.position = e.notification_id"
        ).format(schema=schema, table=table, chain=chain, genesis=Literal(GENESIS))
        self._sql_copy_events = SQL(
            "COPY {schema}.{table} "
            "(originator_id, originator_version, topic, state, notification_id) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, table=table)
        self._sql_copy_chain = SQL(
            "COPY {schema}.{chain} "
            "(position, originator_id, originator_version, event_digest, digest) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, chain=chain)
        # One append's whole write, in one statement (see the module docstring). ``steps``
        # starts at the tail (ord 0, no event) and walks the events in order, each link hashing
        # the one before it; the text hashed is exactly ``global_link``'s (uuid and bigint print
        # as Python's ``str`` does).
        self._sql_append = SQL(
            "WITH RECURSIVE "
            "input AS (SELECT * FROM unnest(%s::{schema}.{event_type}[], %s::text[]) "
            "WITH ORDINALITY AS i(originator_id, originator_version, topic, state, "
            "event_digest, ord)), "
            "steps AS ("
            "SELECT 0::bigint AS ord, t.position, t.digest FROM ({tail}) t "
            "UNION ALL "
            "SELECT i.ord, s.position + 1, encode(sha256(convert_to("
            "s.digest || '|' || (s.position + 1)::text || '|' || i.originator_id::text || '|' "
            "|| i.originator_version::text || '|' || i.event_digest, 'UTF8')), 'hex') "
            "FROM steps s JOIN input i ON i.ord = s.ord + 1), "
            "links AS (INSERT INTO {schema}.{chain} "
            "(position, originator_id, originator_version, event_digest, digest) "
            "SELECT s.position, i.originator_id, i.originator_version, i.event_digest, s.digest "
            "FROM steps s JOIN input i USING (ord)) "
            "INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state, notification_id) "
            "SELECT i.originator_id, i.originator_version, i.topic, i.state, s.position "
            "FROM steps s JOIN input i USING (ord) ORDER BY s.ord RETURNING notification_id"
        ).format(
            schema=schema,
            table=table,
            chain=chain,
            event_type=Identifier(self.stored_event_type_name),
            tail=self._sql_tail,
        )

    def create_table(self) -> None:
        """eventsourcing's ``create_table``, without re-creating the stored-event type that
        exists: PostgreSQL has no ``CREATE TYPE IF NOT EXISTS``, so eventsourcing tries and
        swallows the ``DuplicateObject``, but the server logs it as an ERROR ("type … already
        exists") on every start of every process; a store that has the type skips it."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                " WHERE n.nspname = %s AND t.typname = %s",
                (self.datastore.schema or "public", self.stored_event_type_name),
            )
            exists = curs.fetchone() is not None
        if exists:
            self.sql_create_statements = [
                s for s in self.sql_create_statements if "CREATE TYPE" not in s.as_string()
            ]
        super().create_table()

    def _rendered(self, curs: Cursor[DictRow], name: str, statement: Composable) -> bytes:
        """``statement`` as the bytes sent to the server, rendered once per recorder.

        psycopg renders a composed statement (identifiers quoted, parts joined) on **every**
        execute: 20 µs of CPU per append for its four statements, partly while the table lock that
        serialises every append in every process is held (issue 19, item 2). Schema and table
        names do not change after the recorder is made, so neither do the bytes."""
        found = self._rendered_sql.get(name)
        if found is None:
            found = self._rendered_sql[name] = statement.as_bytes(curs)
        return found

    def _lock_table(self, curs: Cursor[DictRow]) -> None:
        """eventsourcing's EXCLUSIVE table lock, each statement rendered once."""
        for n, statement in enumerate(self.lock_table_statements):
            query = (
                self._rendered(curs, f"lock{n}", statement)
                if isinstance(statement, Composable)
                else statement
            )
            curs.execute(query, prepare=True)

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        """eventsourcing's ``NOTIFY`` of the store's channel, rendered once."""
        curs.execute(self._rendered(curs, "notify", self._sql_notify))

    def _links(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], digests: Sequence[str]
    ) -> tuple[int, list[tuple[int, Any, int, str, str]]]:
        """The last position before these events and their chain rows, read under the table
        lock (the bulk append, ``copy_events``; one append links inside its insert, from the
        same tail)."""
        curs.execute(self._sql_tail)
        tail = curs.fetchone()
        assert tail is not None  # an aggregate over the table: always one row
        last, prev = int(tail["position"]), str(tail["digest"])
        links = []
        for offset, (e, digest) in enumerate(zip(stored_events, digests, strict=True), start=1):
            position = last + offset
            prev = global_link(prev, position, str(e.originator_id), e.originator_version, digest)
            links.append((position, e.originator_id, e.originator_version, digest, prev))
        return last, links

    def copy_events(self, stored_events: Sequence[StoredEvent], digests: Sequence[str]) -> int:
        """Append many events (of many streams, in this order) in one transaction with ``COPY``:
        the bulk import's write (``infra.persistence.bulk``). Same table lock, same max+1
        positions and the same global chain links as appending them one by one, so the chain
        cannot tell the two apart; a stream version already taken raises ``IntegrityError``
        (eventsourcing's) and nothing of the batch is stored. Returns the first position."""
        if len(digests) != len(stored_events):
            raise MissingDigests(f"{len(stored_events)} event(s), {len(digests)} digest(s)")
        if not stored_events:
            return 0
        try:
            with self.datastore.transaction(commit=True) as curs:
                self._lock_table(curs)
                self._notify_channel(curs)
                last, links = self._links(curs, stored_events, digests)
                with curs.copy(self._sql_copy_events) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea", "int8"])
                    for position, e in enumerate(stored_events, start=last + 1):
                        copy.write_row(
                            (e.originator_id, e.originator_version, e.topic, e.state, position)
                        )
                with curs.copy(self._sql_copy_chain) as copy:
                    copy.set_types(["int8", "uuid", "int8", "text", "text"])
                    for link in links:
                        copy.write_row(link)
        except psycopg.errors.UniqueViolation as exc:
            raise IntegrityError(exc) from exc
        return last + 1

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        digests = kwargs.get(DIGESTS_KWARG)
        if digests is None or len(digests) != len(stored_events):
            raise MissingDigests(
                f"insert of {len(stored_events)} event(s) without their stream digests "
                f"({DIGESTS_KWARG}); write through CaseStore so the global chain stays whole"
            )
        self._lock_table(curs)
        self._notify_channel(curs)
        # A version conflict is caught by the stream's primary key when the insert is synced:
        # the transaction rolls back, and since positions are max+1 (not a sequence) nothing
        # is burnt. Not asking first keeps one round trip out of the table lock, and so does
        # linking the chain inside the insert (no read of its tail into Python).
        pg_events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        curs.execute(self._rendered(curs, "append", self._sql_append), (pg_events, list(digests)))
