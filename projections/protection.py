"""Reports that list cases show a protected case's row with its identifying columns masked
(POL-SKYDD-RAPPORT, docs/security.md "Protected identities"): the row stays, so every count and
aggregate is unchanged, but its case_ref, case id, enhet and handläggare read ``⟨skyddad⟩``.

Protection is judged on the case's current events (the views' ``report_cases``), also for a
report as of a past date or as known at a past time: a reader today must not be led to a child
who is protected today.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.events import event_from_json
from domain.protection import MARKER, SKYDD_TYPES, protection_of
from projections.source import table_ref
from projections.tables import CASES, PROTECTION_CANDIDATES

#: The columns that lead a reader to the case or to where it is handled.
MASKED: Final = ("case_ref", "case_id", "enhet", "handlaggare")


def _rows(node: Any, out: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every dict in ``node`` that names a case (``case_ref``), depth first. Descends only into
    dicts and lists: a frister report at a million events has hundreds of thousands of scalar
    values, and a generator per value cost more than the report's query."""
    found: list[dict[str, Any]] = [] if out is None else out
    if isinstance(node, dict):
        if isinstance(node.get("case_ref"), str):
            found.append(node)
        for value in node.values():
            if isinstance(value, (dict, list)):
                _rows(value, found)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _rows(item, found)
    return found


def candidates_query(schema: str) -> sql.Composed:
    """A kommun's cases that may be protected (``%s``: the kommun), through their partial index."""
    return sql.SQL("SELECT case_ref, events FROM {} WHERE kommun = %s AND ({})").format(
        table_ref(schema, CASES.name),
        sql.SQL(PROTECTION_CANDIDATES),  # a module constant
    )


def protected_refs(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    refs: set[str],
    unseal: Callable[[bytes], bytes],
) -> set[str]:
    """The case_refs among ``refs`` of ``kommun`` whose case is protected now. Only the cases
    with a protection event (``report_cases.event_types``) are read and decrypted: a case
    without one is not protected. Those few are found through their partial index
    (``tables.PROTECTION_CANDIDATES``) and matched against ``refs`` here: asking the database
    for each of a large report's case_refs (20,000 in a frister report at a million events)
    probed the index once per ref."""
    if not refs:
        return set()
    curs.execute(candidates_query(schema), (kommun,))
    out = set()
    for row in curs.fetchall():
        if row["case_ref"] not in refs:
            continue
        envs = orjson.loads(unseal(row["events"]))
        marks = [event_from_json(e) for e in envs if e.get("type") in SKYDD_TYPES]
        if marks and protection_of(marks).protected:
            out.add(str(row["case_ref"]))
    return out


def mask_protected(
    body: dict[str, Any],
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    unseal: Callable[[bytes], bytes],
) -> int:
    """Mask, in place, every row of ``body`` about a protected case; the number masked."""
    rows = _rows(body)
    protected = protected_refs(curs, schema, kommun, {r["case_ref"] for r in rows}, unseal)
    masked = 0
    for row in rows:
        if row["case_ref"] in protected:
            for col in MASKED:
                if col in row and row[col] is not None:
                    row[col] = MARKER
            masked += 1
    return masked
