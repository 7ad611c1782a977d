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
from projections.tables import CASES

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


def protected_refs(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    refs: set[str],
    unseal: Callable[[bytes], bytes],
) -> set[str]:
    """The case_refs among ``refs`` of ``kommun`` whose case is protected now. Only the cases
    with a protection event (``report_cases.event_types``) are read and decrypted: a case
    without one is not protected."""
    if not refs:
        return set()
    curs.execute(
        sql.SQL(
            "SELECT case_ref, events FROM {} WHERE kommun = %s AND case_ref = ANY(%s) "
            "AND (event_types IS NULL OR event_types && %s::text[])"
        ).format(table_ref(schema, CASES.name)),
        (kommun, sorted(refs), sorted(SKYDD_TYPES)),
    )
    out = set()
    for row in curs.fetchall():
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
