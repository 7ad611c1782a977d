"""The five reports' read-time folds as they were before their rows were folded at write time
(main at 6fc9238: ``projections.placed``, ``placeringar``, ``extracts``, ``arsstatistik``): each
decrypts ``report_cases.events`` of the cases that can give a row and folds them. The reference
``tests/projections/test_folded_views.py`` compares the reports with (not used by barnflow)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import legal_date
from domain.events import PLACEMENT_INSATSER, event_from_json
from domain.placement import PLACEMENT_READS, PLACEMENT_STARTS, Placement, placements
from domain.returns import Record, RuleSet
from domain.returns.collect import RECORD_READS, RECORD_STARTS, case_records
from projections.extracts import AKTUALISERING_COLUMNS, EJ_AKTUELL, EJ_BESLUTAD, INGEN
from projections.periods import Period
from projections.placed import (  # the read-time helpers avvikningar still uses
    _Child,
    _kontinuitet_measure,
    _note_child,
    case_events,
    kontinuitet_per_enhet,
)
from projections.source import table_ref
from projections.stats import age_band, kon_of, split
from projections.tables import ANMALNINGAR, CASES

Unseal = Callable[[bytes], bytes]
_FLAG_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})
_OPENING = frozenset({"anmalan_mottagen", "ansokan_mottagen"})
_VERKSTALLD = frozenset({"insats_verkstalld"})


def kontinuitet(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Every SoL placement verkställd on ``p.end`` or before (running then or ended), with the
    socialsekreterare named for it and how often the named one changed (every
    ``socialsekreterare_utsedd`` after the first is a change), per placement year; and per unit
    the changes per placement year (SoL 2025:400 22 kap. 12 §: continuity of the contact)."""
    as_of = p.end
    rows: list[dict[str, Any]] = []
    for case_ref, events in case_events(curs, schema, kommun, unseal, as_of, having=_VERKSTALLD):
        child = _Child()
        placements: dict[str, dict[str, Any]] = {}
        named: list[tuple[date, str | None, str]] = []
        for day, env in events:
            _note_child(child, env)
            data = env.get("data") or {}
            t = env["type"]
            if t == "beslut_fattat" and data.get("insats") in PLACEMENT_INSATSER:
                if data.get("gynnande") is True:
                    placements[str(data["beslut_id"])] = {"insats": data["insats"]}
            elif t == "insats_verkstalld" and str(data["beslut_id"]) in placements:
                placements[str(data["beslut_id"])].setdefault("placerad", day)
            elif t == "beslut_avslutat" and str(data["beslut_id"]) in placements:
                placements[str(data["beslut_id"])].setdefault("slut", day)
            elif t == "socialsekreterare_utsedd":
                bid = data.get("beslut_id")
                ref = None if bid is None else str(bid)
                named.append((day, ref, str(data["socialsekreterare_id"])))
        for bid, pl in sorted(placements.items()):
            start = pl.get("placerad")
            if start is None:
                continue
            end = pl.get("slut") or as_of
            # named for this placement (or for none in particular) until it ended, also before
            # it began: the socialsekreterare is often named with the decision
            mine = [(d, ss) for d, b, ss in named if b in (bid, None) and d <= end]
            changes = sum(1 for i in range(1, len(mine)) if mine[i][1] != mine[i - 1][1])
            years = round(max((end - start).days, 1) / 365.25, 2)
            rows.append(
                {
                    "case_ref": case_ref,
                    "beslut_id": bid,
                    "insats": pl["insats"],
                    "placerad": start.isoformat(),
                    "avslutad": pl["slut"].isoformat() if pl.get("slut") else None,
                    "placeringsar": years,
                    "socialsekreterare": mine[-1][1] if mine else None,
                    "byten": changes,
                    "byten_per_ar": round(changes / years, 2) if years else None,
                    "kon": kon_of(child.kon),
                    "aldersgrupp": age_band(child.born, as_of),
                    "enhet": child.enhet,
                }
            )

    return {
        "rows": rows,
        "per_enhet": kontinuitet_per_enhet(rows),
        "summary": split(
            rows, lambda i: i["kon"], lambda i: i["aldersgrupp"], _kontinuitet_measure
        ),
    }


def kommun_placements(
    curs: Cursor[DictRow], schema: str, kommun: str, unseal: Callable[[bytes], bytes]
) -> list[Placement]:
    """Every placement of ``kommun``'s cases, in case_ref then placement order. Only the cases
    whose events begin one (``PLACEMENT_STARTS``) are read and decrypted."""
    curs.execute(
        sql.SQL(
            "SELECT events FROM {} WHERE kommun = %s "
            "AND (event_types IS NULL OR event_types && %s::text[]) ORDER BY case_ref"
        ).format(table_ref(schema, CASES.name)),
        (kommun, sorted(PLACEMENT_STARTS)),
    )
    out: list[Placement] = []
    for r in curs.fetchall():
        envs = orjson.loads(unseal(r["events"]))
        out.extend(placements(event_from_json(e) for e in envs if e["type"] in PLACEMENT_READS))
    return sorted(out, key=lambda p: (p.case_ref, p.start, p.key))


def _category(value: object) -> str:
    """The anmälare's category as one label (lower case, trimmed): ``okand`` when absent."""
    text = str(value).strip().lower() if value is not None else ""
    return text or "okand"


def aktualiseringar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Counts of the aktualiseringar of the period (see the module doc), with totals per typ."""
    curs.execute(
        sql.SQL(
            "SELECT case_ref, anmalan_id, behover_forhandsbedomning FROM {} WHERE kommun = %s"
        ).format(table_ref(schema, ANMALNINGAR.name)),
        (kommun,),
    )
    behover = {
        (str(r["case_ref"]), str(r["anmalan_id"])): bool(r["behover_forhandsbedomning"])
        for r in curs.fetchall()
    }
    # A case has an aktualisering in the period only if its events reach into it: at a million
    # events this reads a quarter of the kommun's cases, not all (``report_cases.first_day``,
    # ``last_day``; NULL, a row written before the columns, is read).
    curs.execute(
        sql.SQL(
            "SELECT case_ref, events FROM {} WHERE kommun = %s "
            "AND (first_day IS NULL OR first_day <= %s) AND (last_day IS NULL OR last_day >= %s) "
            "ORDER BY case_ref"
        ).format(table_ref(schema, CASES.name)),
        (kommun, p.end, p.start),
    )
    counts: Counter[tuple[str, str, str, str, str | None]] = Counter()
    for row in curs.fetchall():
        case_ref = str(row["case_ref"])
        events = [
            (legal_date(datetime.fromisoformat(env["occurred_at"])), env)
            for env in orjson.loads(unseal(row["events"]))
        ]
        events.sort(key=lambda x: (x[0], x[1].get("position") or 0))
        kon: object = None
        born: date | None = None
        decided: dict[str, str] = {}
        found: list[tuple[str, str | None, date, object, date | None, str | None]] = []
        for day, env in events:
            if day > p.end:
                break
            data = env.get("data") or {}
            barn = data.get("barn")
            if isinstance(barn, dict):
                kon = barn.get("kon", kon)
                if barn.get("fodelsedatum"):
                    born = date.fromisoformat(str(barn["fodelsedatum"]))
            etype = env["type"]
            if etype == "forhandsbedomning_beslutad":
                decided[str(data["anmalan_id"])] = str(data["beslut"])
            if day < p.start:
                continue
            if etype == "anmalan_mottagen":
                category = _category(data.get("anmalare_kategori"))
                found.append(("anmalan", str(data["anmalan_id"]), day, kon, born, category))
            elif etype == "ansokan_mottagen":
                found.append(("ansokan", None, day, kon, born, None))
            elif etype == "utredning_inledd" and data.get("grund") == "eget_initiativ":
                found.append(("eget_initiativ", None, day, kon, born, None))
        for typ, anmalan_id, day, k, b, cat in found:
            if anmalan_id is None:
                outcome = EJ_AKTUELL
            elif anmalan_id in decided:
                outcome = decided[anmalan_id]
            elif not behover.get((case_ref, anmalan_id), True):
                outcome = INGEN
            else:
                outcome = EJ_BESLUTAD
            counts[(typ, outcome, kon_of(k), age_band(b, day), cat)] += 1
    rows = [
        dict(zip(AKTUALISERING_COLUMNS, (*key, n), strict=True))
        for key, n in sorted(counts.items(), key=lambda kv: (*kv[0][:4], kv[0][4] or ""))
    ]
    per_typ = Counter[str]()
    for key, n in counts.items():
        per_typ[key[0]] += n
    return {
        "rows": rows,
        "summa": {
            "antal": sum(counts.values()),
            "typ": {t: per_typ[t] for t in ("anmalan", "ansokan", "eget_initiativ")},
        },
    }


def year_records(
    curs: Cursor[DictRow], schema: str, kommun: str, rules: RuleSet, unseal: Unseal
) -> list[Record]:
    """Every record of ``kommun``'s cases in the rule set's year, by case_ref then start.

    Only the cases with an event that begins a record (``RECORD_STARTS``, on
    ``report_cases.event_types``; NULL, a row written before the column, is read) and whose
    first event is not after the year are read, and only the events ``case_records`` reads are
    built: reading every case of a kommun took 3-5 s at a million events.
    """
    curs.execute(
        sql.SQL(
            "SELECT case_id::text AS case_id, ivo_id, events FROM {} WHERE kommun = %s "
            "AND (event_types IS NULL OR event_types && %s::text[]) "
            "AND (first_day IS NULL OR first_day <= %s) ORDER BY case_ref"
        ).format(table_ref(schema, CASES.name)),
        (kommun, sorted(RECORD_STARTS), date(rules.year, 12, 31)),
    )
    out: list[Record] = []
    for row in curs.fetchall():
        events = [
            event_from_json(e)
            for e in orjson.loads(unseal(row["events"]))
            if e["type"] in RECORD_READS
        ]
        out.extend(
            case_records(events, year=rules.year, case_id=row["case_id"], ivo_id=row["ivo_id"])
        )
    return out
