"""A rebuild's views, written beside the live ones and swapped in at its commit.

A rebuild used to ``DELETE`` every view row and ``COPY`` the new rows into the same indexed
tables in its one transaction. PostgreSQL then wrote every deleted row, every new row and every
index entry to the WAL, tuple by tuple (about 340 MB for 200,000 events), and the tables held
twice their rows until a vacuum: the COPY took about two thirds of the rebuild's wall time
(docs/operations.md, "Tenth round"). Now the rebuild creates an empty copy of each view
(``<name>__rebuild``, no index) in its transaction, COPYs into it with ``FREEZE`` (allowed
because the table is new in this transaction: rows written frozen, no later hint-bit or freeze
pass), builds the primary key and indexes once at the end, and then swaps: drops the old table
and renames the copy, its constraint and its indexes to the live names. Every DDL statement is
transactional, so a rebuild that fails or is killed leaves the live views as they were.

**Readers and the swap.** Dropping a table takes an ACCESS EXCLUSIVE lock, and a report that
has read one view and not yet the next could otherwise see the old table and then the new one
(two foldings), or deadlock with the swap over the two tables' locks. So every transaction on
the views takes an ACCESS SHARE lock on the tracking table first (``ReportsView.cursor``,
``gate``), before its first query takes its snapshot, and the swap takes the tracking table
ACCESS EXCLUSIVE before any view: it waits for the reports in flight to finish, new ones wait
for its commit (milliseconds: only catalog changes remain by then) and then read the new views
whole. Until the swap, reports answer from the old views as before.
"""

from __future__ import annotations

import time

from psycopg import Cursor, errors, sql

from projections.tables import ALL_TABLES, Table

#: The name suffix of a rebuild's copies of the views (and of their indexes).
SUFFIX = "__rebuild"
#: A swap refused by PostgreSQL's deadlock detector (a transaction on the views that did not
#: take the gate first: an operator's psql session) is tried again this many times.
SWAP_ATTEMPTS = 5


def gate(curs: Cursor[object], schema: str, tracking: str) -> None:
    """Take the views' gate for this transaction: an ACCESS SHARE lock on the tracking table,
    which a rebuild's swap takes ACCESS EXCLUSIVE. Called first in every transaction on the
    views, so its snapshot is taken after any swap that was waiting has committed."""
    curs.execute(
        sql.SQL("LOCK TABLE {}.{} IN ACCESS SHARE MODE").format(
            sql.Identifier(schema), sql.Identifier(tracking)
        )
    )


def create(curs: Cursor[object], schema: str) -> None:
    """An empty copy of every view, without keys or indexes (built once by ``index``)."""
    for t in ALL_TABLES:
        curs.execute(
            sql.SQL("CREATE TABLE {}.{} ({})").format(
                sql.Identifier(schema), sql.Identifier(t.name + SUFFIX), t.column_defs()
            )
        )


def index(curs: Cursor[object], schema: str) -> None:
    """The copies' primary keys and indexes, built over their rows (named with ``SUFFIX``)."""
    for t in ALL_TABLES:
        curs.execute(
            sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(schema),
                sql.Identifier(t.name + SUFFIX),
                sql.Identifier(f"{t.name}_pkey{SUFFIX}"),
                sql.SQL(", ").join(map(sql.Identifier, t.key)),
            )
        )
        for stmt in t.create_indexes(schema, shadow=SUFFIX):
            curs.execute(stmt)


def swap(curs: Cursor[object], schema: str, tracking: str) -> None:
    """Replace every view by its copy, behind the gate (see the module's docstring)."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        curs.execute("SAVEPOINT barnflow_swap")
        try:
            curs.execute(
                sql.SQL("LOCK TABLE {}.{} IN ACCESS EXCLUSIVE MODE").format(
                    sql.Identifier(schema), sql.Identifier(tracking)
                )
            )
            for t in ALL_TABLES:
                _swap_one(curs, schema, t)
        except errors.DeadlockDetected:
            curs.execute("ROLLBACK TO SAVEPOINT barnflow_swap")
            if attempt == SWAP_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
        else:
            curs.execute("RELEASE SAVEPOINT barnflow_swap")
            return


def _swap_one(curs: Cursor[object], schema: str, t: Table) -> None:
    s = sql.Identifier(schema)
    curs.execute(sql.SQL("DROP TABLE {}.{}").format(s, sql.Identifier(t.name)))
    curs.execute(
        sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(
            s, sql.Identifier(t.name + SUFFIX), sql.Identifier(t.name)
        )
    )
    curs.execute(
        sql.SQL("ALTER TABLE {}.{} RENAME CONSTRAINT {} TO {}").format(
            s,
            sql.Identifier(t.name),
            sql.Identifier(f"{t.name}_pkey{SUFFIX}"),
            sql.Identifier(f"{t.name}_pkey"),
        )
    )
    for name in sorted(t.index_names()):
        curs.execute(
            sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
                s, sql.Identifier(name + SUFFIX), sql.Identifier(name)
            )
        )
