"""The frister report (docs/domain.md §5.1): every open or overdue frist of a kommun on a legal day.

The ``frister`` view keeps each frist's versions (``domain.frister.frist_versions``), so a
report as of any date lists exactly what ``domain.frister.compute_frister`` said on that date
over the events legally known by then: a förlängning decided later does not move the due date
yet, and a fulfilment dated later does not count yet. A case whose repeating frister (EVB
quarters, anniversaries) were generated only up to an earlier date is recomputed from its events:
the writers generate them a year past today and move that on (``projections.horizon``), so a
report as of today recomputes nothing in the normal case, and one as of a later date stays exact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between
from domain.events import event_from_json
from domain.frister import MET, MISSED, status_on
from domain.rules import DEFAULT_POLICY, KommunPolicy
from projections.facts import case_frister
from projections.source import table_ref
from projections.tables import CASES, FRISTER

COLUMNS = (
    "case_ref",
    "rule",
    "frist",
    "trigger_date",
    "due",
    "days_left",
    "status",
    "law",
    "paragraph",
    "enhet",
)
_NAMES = FRISTER.column_names


def _recomputed(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    as_of: date,
    unseal: Callable[[bytes], bytes],
    *,
    policy: KommunPolicy,
) -> tuple[set[str], list[dict[str, Any]]]:
    """Rows of the cases whose stored repeating frister end before ``as_of``, recomputed."""
    curs.execute(
        sql.SQL(
            "SELECT case_id::text AS case_id, events FROM {} "
            "WHERE kommun = %s AND frister_until < %s"
        ).format(table_ref(schema, CASES.name)),
        (kommun, as_of),
    )
    ids: set[str] = set()
    rows: list[dict[str, Any]] = []
    for r in curs.fetchall():
        envs = orjson.loads(unseal(r["events"]))
        events = [event_from_json(e) for e in envs]
        ids.add(r["case_id"])
        frister, _ = case_frister(r["case_id"], events, policy, until=as_of)
        rows.extend(dict(zip(_NAMES, row, strict=True)) for row in frister)
    return ids, rows


def frister_rows(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    as_of: date,
    unseal: Callable[[bytes], bytes],
    *,
    include_closed: bool = False,
    policy: KommunPolicy = DEFAULT_POLICY,
) -> list[dict[str, Any]]:
    """Frister of ``kommun`` on ``as_of``: open/overdue (met/missed too with ``include_closed``).
    ``policy`` is the kommun's one the views were computed with (``ReportsView.policy``).

    Ordered by due date, case and key, so the same record always gives the same list.
    """
    curs.execute(
        sql.SQL(
            "SELECT case_id::text AS case_id, case_ref, rule, name, key, trigger_date, due, "
            "shifted_due, fulfilled_date, law, paragraph, enhet, handlaggare, valid_from, "
            "valid_to FROM {} WHERE kommun = %s AND valid_from <= %s "
            "AND (valid_to IS NULL OR valid_to > %s){}"
        ).format(
            table_ref(schema, FRISTER.name),
            sql.SQL("")
            if include_closed
            else sql.SQL(" AND (fulfilled_date IS NULL OR fulfilled_date > %s)"),
        ),
        (kommun, as_of, as_of) if include_closed else (kommun, as_of, as_of, as_of),
    )
    stored = curs.fetchall()
    redone, extra = _recomputed(curs, schema, kommun, as_of, unseal, policy=policy)
    found = [r for r in stored if r["case_id"] not in redone] if redone else stored
    found.extend(
        r
        for r in extra
        if r["valid_from"] <= as_of and (r["valid_to"] is None or r["valid_to"] > as_of)
    )
    found.sort(key=lambda r: (r["due"], r["case_ref"], r["key"]))
    out = []
    for r in found:
        status = status_on(r["due"], r["fulfilled_date"], as_of)
        if not include_closed and status in (MET, MISSED):
            continue
        fulfilled = r["fulfilled_date"] if status in (MET, MISSED) else None
        out.append(
            {
                "case_ref": r["case_ref"],
                "rule": r["rule"],
                "frist": r["name"],
                "key": r["key"],
                "trigger_date": r["trigger_date"].isoformat(),
                "due": r["due"].isoformat(),
                "shifted_due": r["shifted_due"].isoformat() if r["shifted_due"] else None,
                "days_left": days_between(as_of, r["due"]),
                "status": status,
                "fulfilled_date": fulfilled.isoformat() if fulfilled else None,
                "law": r["law"],
                "paragraph": r["paragraph"],
                "enhet": r["enhet"],
                "handlaggare": r["handlaggare"],
            }
        )
    return out
