"""The placed child's reports (docs/domain.md §5.11-§5.12): ``avvikningar``, the yearly statistic
of children who went missing from a placement, and ``kontinuitet``, the changes of
socialsekreterare per placement and placement year.

Both fold the case's redacted events kept in the ``report_cases`` view (the same events the
engine reads), so they are rebuilt with every view and answer as of a past legal date and as
known at a past time like every report. Kön and age band come from the child's ``barn`` (its
``fodelsedatum``: the age is computed on the day that matters, never stored).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import legal_date
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, median, share, split
from projections.tables import CASES, KONTINUITET

AVVIKNING_COLUMNS = (
    "case_ref",
    "avvikning_id",
    "borjade",
    "slutade",
    "dagar",
    "utfall",
    "ensamkommande",
    "kon",
    "aldersgrupp",
    "enhet",
)
KONTINUITET_COLUMNS = (
    "case_ref",
    "beslut_id",
    "insats",
    "placerad",
    "placeringsar",
    "socialsekreterare",
    "byten",
    "byten_per_ar",
    "enhet",
)
#: Events that say whether the child is ensamkommande (the latest before an avvikning decides).
_FLAG_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})
_OPENING = frozenset({"anmalan_mottagen", "ansokan_mottagen"})
#: Without one of these a case has no row in the report (``case_events(having=...)``): an
#: avvikning row begins with its anmälan, a kontinuitet row with the placement's verkställighet.
_AVVIKNING_START = frozenset({"avvikning_anmald"})
_VERKSTALLD = frozenset({"insats_verkstalld"})
Unseal = Callable[[bytes], bytes]


@dataclass
class _Child:
    """What a case's events say about the child and its unit, up to a legal date."""

    kon: str | None = None
    born: date | None = None
    enhet: str | None = None
    ensamkommande: bool = False
    flags: dict[str, object] = field(default_factory=dict)


def case_events(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    unseal: Unseal,
    as_of: date,
    *,
    having: frozenset[str] | None = None,
    refs: Collection[str] | None = None,
) -> Iterator[tuple[str, list[tuple[date, dict[str, Any]]]]]:
    """Each case of ``kommun`` (by case_ref) with its events up to ``as_of``, in stream order.

    ``having``: only the cases with an event of one of these types (at any date: the filter is
    on ``report_cases.event_types``); ``refs``: only these case_refs. A report passes what its
    rows cannot exist without, so PostgreSQL sends and this process decrypts those cases only:
    reading every case of a kommun took seconds at a million events.
    """
    where = [sql.SQL("kommun = %s")]
    params: list[Any] = [kommun]
    if having is not None:
        where.append(sql.SQL("(event_types IS NULL OR event_types && %s::text[])"))
        params.append(sorted(having))
    if refs is not None:
        where.append(sql.SQL("case_ref = ANY(%s::text[])"))
        params.append(sorted(refs))
    curs.execute(
        sql.SQL("SELECT case_ref, events FROM {} WHERE {} ORDER BY case_ref").format(
            table_ref(schema, CASES.name), sql.SQL(" AND ").join(where)
        ),
        params,
    )
    for row in curs.fetchall():
        out = []
        for env in orjson.loads(unseal(row["events"])):
            day = legal_date(datetime.fromisoformat(env["occurred_at"]))
            if day <= as_of:
                out.append((day, env))
        out.sort(key=lambda x: (x[0], x[1].get("position") or 0))
        yield str(row["case_ref"]), out


def _note_child(child: _Child, env: dict[str, Any]) -> None:
    data = env.get("data") or {}
    barn = data.get("barn")
    if isinstance(barn, dict):
        child.kon = barn.get("kon", child.kon)
        if barn.get("fodelsedatum"):
            child.born = date.fromisoformat(str(barn["fodelsedatum"]))
    if env["type"] in _OPENING and data.get("enhet") is not None:
        child.enhet = str(data["enhet"])
    if env["type"] in _FLAG_TYPES and data.get("ensamkommande") is not None:
        child.ensamkommande = bool(data["ensamkommande"])


# --- avvikningar ---------------------------------------------------------------------------------


def avvikningar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Every avvikning that began in the year, with its length (days to the day the child was
    found or came back; open ones to the year's end, ``slutade`` null), and a summary per kön
    and age band (the child's age on the day it went missing)."""
    rows: list[dict[str, Any]] = []
    for case_ref, events in case_events(
        curs, schema, kommun, unseal, p.end, having=_AVVIKNING_START
    ):
        child = _Child()
        started: dict[str, dict[str, Any]] = {}
        for day, env in events:
            _note_child(child, env)
            data = env.get("data") or {}
            if env["type"] == "avvikning_anmald":
                own = data.get("ensamkommande")
                started[str(data["avvikning_id"])] = {
                    "case_ref": case_ref,
                    "avvikning_id": str(data["avvikning_id"]),
                    "borjade": day,
                    "slutade": None,
                    "utfall": None,
                    "ensamkommande": child.ensamkommande if own is None else bool(own),
                    "kon": kon_of(child.kon),
                    "aldersgrupp": age_band(child.born, day),
                    "enhet": child.enhet,
                }
            elif env["type"] == "avvikning_avslutad" and str(data["avvikning_id"]) in started:
                row = started[str(data["avvikning_id"])]
                row["slutade"], row["utfall"] = day, data.get("utfall")
        for row in started.values():
            if not p.start <= row["borjade"] <= p.end:
                continue
            end = row["slutade"] or p.end
            rows.append(
                {
                    **row,
                    "borjade": row["borjade"].isoformat(),
                    "slutade": row["slutade"].isoformat() if row["slutade"] else None,
                    "dagar": (end - row["borjade"]).days,
                    "pagar": row["slutade"] is None,
                }
            )
    rows.sort(key=lambda r: (r["borjade"], r["case_ref"], r["avvikning_id"]))

    def measure(items: list[dict[str, Any]]) -> dict[str, Any]:
        ended = [i["dagar"] for i in items if not i["pagar"]]
        return {
            "antal": len(items),
            "barn": len({i["case_ref"] for i in items}),
            "ensamkommande": sum(1 for i in items if i["ensamkommande"]),
            "pagar": sum(1 for i in items if i["pagar"]),
            "median_dagar": median(ended),
            "langsta_dagar": max((i["dagar"] for i in items), default=None),
        }

    return {
        "rows": rows,
        "summary": split(rows, lambda i: i["kon"], lambda i: i["aldersgrupp"], measure),
        "ensamkommande": measure([r for r in rows if r["ensamkommande"]]),
    }


# --- kontinuitet ---------------------------------------------------------------------------------


def kontinuitet(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Every SoL placement verkställd on ``p.end`` or before (running then or ended), with the
    socialsekreterare named for it and how often the named one changed (every
    ``socialsekreterare_utsedd`` after the first is a change), per placement year; and per unit
    the changes per placement year (SoL 2025:400 22 kap. 12 §: continuity of the contact).

    The placements as the events known by ``p.end`` give them are the ``kontinuitet`` view's
    rows valid that day (``projections.folded.kontinuitet_facts``, folded when the events
    arrived); the placement years and the age band are computed here, on ``p.end``.
    POL-KONTINUITET-KORT: a placement of under a hundredth of a year (verkställd on ``p.end`` or
    the day before) has 0.00 placement years and no ``byten_per_ar`` (``None``), as a summary
    with 0.00 years has no ``byten_per_placeringsar``: a rate per year of a day says nothing."""
    as_of = p.end
    curs.execute(
        sql.SQL(
            "SELECT case_ref, beslut_id, insats, placerad, avslutad, socialsekreterare, byten, "
            "kon, fodelsedatum, enhet FROM {} WHERE kommun = %s AND valid_from <= %s "
            "AND (valid_to IS NULL OR valid_to > %s) "
            'ORDER BY case_ref, case_id, beslut_id COLLATE "C"'
        ).format(table_ref(schema, KONTINUITET.name)),
        (kommun, as_of, as_of),
    )
    rows: list[dict[str, Any]] = []
    for r in curs.fetchall():
        start: date = r["placerad"]
        slut: date | None = r["avslutad"]
        end = slut or as_of
        changes = int(r["byten"])
        years = round(max((end - start).days, 1) / 365.25, 2)
        rows.append(
            {
                "case_ref": str(r["case_ref"]),
                "beslut_id": r["beslut_id"],
                "insats": r["insats"],
                "placerad": start.isoformat(),
                "avslutad": slut.isoformat() if slut else None,
                "placeringsar": years,
                "socialsekreterare": r["socialsekreterare"],
                "byten": changes,
                "byten_per_ar": round(changes / years, 2) if years else None,
                "kon": kon_of(r["kon"]),
                "aldersgrupp": age_band(r["fodelsedatum"], as_of),
                "enhet": r["enhet"],
            }
        )

    return {
        "rows": rows,
        "per_enhet": kontinuitet_per_enhet(rows),
        "summary": split(
            rows, lambda i: i["kon"], lambda i: i["aldersgrupp"], _kontinuitet_measure
        ),
    }


def _kontinuitet_measure(items: list[dict[str, Any]]) -> dict[str, Any]:
    years = round(sum(i["placeringsar"] for i in items), 2)
    changes = sum(i["byten"] for i in items)
    return {
        "placeringar": len(items),
        "utan_socialsekreterare": sum(1 for i in items if i["socialsekreterare"] is None),
        "byten": changes,
        "placeringsar": years,
        "byten_per_placeringsar": round(changes / years, 2) if years else None,
        "andel_utan_byte": share(sum(1 for i in items if i["byten"] == 0), len(items)),
    }


def kontinuitet_per_enhet(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The summary per enhet of ``rows`` as they are shown: after masking, a protected case's
    placements count under ``⟨skyddad⟩``, not under its unit (POL-SKYDD-ENHET)."""
    units = sorted({r["enhet"] or "" for r in rows})
    return {u: _kontinuitet_measure([r for r in rows if (r["enhet"] or "") == u]) for u in units}
