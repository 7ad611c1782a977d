"""Barnchecklista (docs/domain.md §5.17, issue #17 item 4): for each beslut made in a half-year,
whether the child was affected (berört), heard and informed, per beslut and per enhet.

- **berört**: every beslut in a barnärende concerns the child (POL-BARNCHECK-BEROR): the event
  contract has no "not affected" field, so the column is always true and is shown so a reader
  sees the checklist's three questions.
- **hört**: a ``barnet_hort`` naming the beslut, or the child heard in the beslut's utredning
  (``utredning_id`` on ``beslut_fattat``) — the utredning's first hearing is the ``hord_datum``
  that barnets röst (§5.6) counts, read from the same view.
- **informerat**: a ``beslut_delgivet`` with ``part`` = ``barnet`` (docs/domain.md §4.7).

As in barnets röst, only what had happened by the half-year's last day counts. The beslut are
the ``beslut_fattat`` rows of the ``beslut`` view made in the period (an LVU omhändertagande
counts when a ``beslut_fattat`` records it; see ``LVU_ROW``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from projections.periods import Period
from projections.placed import case_events
from projections.source import table_ref
from projections.stats import age_band, kon_of, share, split
from projections.tables import BESLUT, UTREDNINGAR
from projections.utredning import happened_by

COLUMNS = (
    "case_ref",
    "beslut_id",
    "datum",
    "insats",
    "enhet",
    "berord",
    "hord",
    "informerad",
)
#: The ``part`` label of a ``beslut_delgivet`` that tells the child of the beslut.
PART_BARNET = "barnet"
#: The ``beslutstyp`` of an LVU omhändertagande's own row in the beslut view (one that names no
#: ``beslut_fattat``): not listed, since the contract cannot record that the child was heard for
#: it or told of it (``barnet_hort``/``beslut_delgivet`` refuse its id, P-REF).
LVU_ROW = "lvu_omhandertagande"
Unseal = Callable[[bytes], bytes]


def _facts(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    unseal: Unseal,
    *,
    refs: set[str],
    end: date,
) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]], set[tuple[str, str]]]:
    """From the cases' events up to ``end``: each beslut's utredning, the beslut the child was
    heard for by name, and the beslut the child was told of."""
    utredning_of: dict[tuple[str, str], str] = {}
    heard: set[tuple[str, str]] = set()
    informed: set[tuple[str, str]] = set()
    for ref, events in case_events(curs, schema, kommun, unseal, end, refs=refs):
        for _day, env in events:
            data = env.get("data") or {}
            bid = data.get("beslut_id")
            if bid is None:
                continue
            key = (ref, str(bid))
            if env["type"] == "beslut_fattat" and data.get("utredning_id") is not None:
                utredning_of[key] = str(data["utredning_id"])
            elif env["type"] == "barnet_hort":
                heard.add(key)
            elif env["type"] == "beslut_delgivet" and data.get("part") == PART_BARNET:
                informed.add(key)
    return utredning_of, heard, informed


def barnchecklista(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Rows per beslut made in ``p``, a summary per enhet (counts and shares) and one for all,
    split by kön and by the child's age band on the beslut's day (docs/domain.md §5)."""
    curs.execute(
        sql.SQL(
            "SELECT case_ref, beslut_id, fattat, insats, beslutstyp, enhet, kon, fodelsedatum "
            "FROM {} "
            "WHERE kommun = %s AND fattat BETWEEN %s AND %s AND beslutstyp <> %s "
            "ORDER BY fattat, case_ref, beslut_id"
        ).format(table_ref(schema, BESLUT.name)),
        (kommun, p.start, p.end, LVU_ROW),
    )
    beslut = [dict(r) for r in curs.fetchall()]
    refs = {str(b["case_ref"]) for b in beslut}
    curs.execute(
        sql.SQL("SELECT case_ref, utredning_id, hord_datum FROM {} WHERE kommun = %s").format(
            table_ref(schema, UTREDNINGAR.name)
        ),
        (kommun,),
    )
    hord_datum = {(str(r["case_ref"]), str(r["utredning_id"])): r["hord_datum"] for r in curs}
    utredning_of, heard, informed = _facts(curs, schema, kommun, unseal, refs=refs, end=p.end)

    rows: list[dict[str, Any]] = []
    groups: dict[int, tuple[str, str]] = {}  # id(row) -> (kön, age band on the beslut's day)
    for b in beslut:
        key = (str(b["case_ref"]), str(b["beslut_id"]))
        uid = utredning_of.get(key)
        in_utredning = uid is not None and happened_by(hord_datum.get((key[0], uid)), p.end)
        rows.append(
            {
                "case_ref": key[0],
                "beslut_id": key[1],
                "datum": b["fattat"].isoformat(),
                "insats": b["insats"] or b["beslutstyp"],
                "enhet": b["enhet"],
                "berord": True,  # POL-BARNCHECK-BEROR
                "hord": key in heard or in_utredning,
                "informerad": key in informed,
            }
        )
        groups[id(rows[-1])] = (kon_of(b["kon"]), age_band(b["fodelsedatum"], b["fattat"]))

    alla = split(rows, lambda r: groups[id(r)][0], lambda r: groups[id(r)][1], _measure)
    return {"rows": rows, "per_enhet": per_enhet(rows), "alla": alla}


def _measure(items: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(items)
    berord = sum(1 for r in items if r["berord"])
    hord = sum(1 for r in items if r["hord"])
    info = sum(1 for r in items if r["informerad"])
    return {
        "antal_beslut": n,
        "berord": berord,
        "hord": hord,
        "andel_hord": share(hord, n),
        "informerad": info,
        "andel_informerad": share(info, n),
        "hord_och_informerad": sum(1 for r in items if r["hord"] and r["informerad"]),
    }


def per_enhet(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary per enhet of ``rows`` as they are shown: after masking, a protected case's
    beslut count under ``⟨skyddad⟩``, not under its unit (POL-SKYDD-ENHET)."""
    units = sorted({r["enhet"] for r in rows}, key=lambda e: (e is None, e or ""))
    return [{"enhet": e, **_measure([r for r in rows if r["enhet"] == e])} for e in units]
