"""Placement figures for the nämnd and the auditors (docs/domain.md §5.11, §5.12): the placed
children (stock on the period's last day, flow in the period, length of placement) and the cost
of the placements (belopp per dygn × dygn per placement type and unit, and the double cost of
overlapping placements of one child).

Read from the ``placeringar`` view: every placement is derived from the case's events by
``domain.placement.placements``, the same function the home's list of placed children and the
placement guard use, when the case's events arrive (``projections.folded``), so a rebuilt view
gives the same bytes and a report decrypts nothing.

Dygn (POL-PLACERING-DYGN): a stay counts the days from its first day up to, not including, the
day it ends (the day of a move belongs to the new home; the day of the end to nobody), cut to the
period. An amount is the one in force for the stay: the beslut's ``belopp_per_dygn`` (SoL), the
placement's (LVU), a move's own when it gives one; a stay without an amount counts its days
under ``utan_belopp``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.placement import Placement, Stay
from projections.folded import placement_of
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, median, split
from projections.tables import PLACERINGAR

PLACERADE_COLUMNS = (
    "case_ref",
    "placering",
    "form",
    "typ",
    "start",
    "slut",
    "hem_id",
    "omplaceringar",
    "kon",
    "aldersgrupp",
    "dagar",
)
KOSTNAD_COLUMNS = ("typ", "enhet", "dygn", "kostnad", "dygn_utan_belopp")
#: The placement types of the report, in a fixed order (every key present in every period).
TYPER = ("familjehem", "jourhem", "hvb", "stodboende")
FORMER = ("SoL", "LVU")


def kommun_placements(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    period: Period | None = None,
) -> list[Placement]:
    """Every placement of ``kommun``'s cases, in case_ref then placement order, from the
    ``placeringar`` view (folded when the case's events arrived, ``projections.folded``).
    ``period``: only the placements that reach into it (started by its last day, not ended
    before its first): every other placement gives neither report a row nor a dygn."""
    where = sql.SQL("")
    params: list[Any] = [kommun]
    if period is not None:
        where = sql.SQL(" AND start <= %s AND (slut IS NULL OR slut >= %s)")
        params += [period.end, period.start]
    curs.execute(
        sql.SQL(
            "SELECT case_ref, key, form, typ, start, slut, kon, fodelsedatum, enhet, stays "
            "FROM {} WHERE kommun = %s{} ORDER BY case_ref, case_id, seq"
        ).format(table_ref(schema, PLACERINGAR.name), where),
        params,
    )
    out = [placement_of(kommun, str(r["case_ref"]), r) for r in curs.fetchall()]
    return sorted(out, key=lambda p: (p.case_ref, p.start, p.key))


def _days(start: date, end: date | None, p: Period) -> int:
    """Dygn of [start, end) within the period (end ``None``: still running)."""
    first = max(start, p.start)
    stop = min(end or p.end + timedelta(days=1), p.end + timedelta(days=1))
    return max(0, (stop - first).days)


def _moves_in(pl: Placement, p: Period) -> int:
    return sum(1 for s in pl.stays[1:] if p.start <= s.start <= p.end)


def placerade_barn(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Callable[[bytes], bytes]
) -> dict[str, Any]:
    """Stock on ``p.end``, flow in ``p`` (new, ended, omplaceringar) and placement lengths."""
    every = kommun_placements(curs, schema, kommun, p)
    touched = [pl for pl in every if pl.start <= p.end and (pl.end is None or pl.end >= p.start)]
    rows: list[dict[str, Any]] = []
    for pl in touched:
        until = pl.end if pl.end is not None and pl.end <= p.end else None
        last = until if until is not None else p.end + timedelta(days=1)
        rows.append(
            {
                "case_ref": pl.case_ref,
                "placering": pl.key,
                "form": pl.form,
                "typ": pl.typ,
                "start": pl.start.isoformat(),
                "slut": until.isoformat() if until else None,
                # the home on the period's last day, or the last home of an ended placement
                "hem_id": pl.hem_on(p.end) if until is None else pl.stays[-1].hem_id,
                "omplaceringar": _moves_in(pl, p),
                "kon": kon_of(pl.kon),
                "aldersgrupp": age_band(pl.fodelsedatum, min(p.end, until or p.end)),
                # the placement's length up to its end, or to the period's last day inclusive
                "dagar": (last - pl.start).days,
            }
        )

    def stock(items: list[dict[str, Any]]) -> dict[str, Any]:
        running = [r for r in items if r["slut"] is None]
        return {
            "antal": len(running),
            **{t: sum(1 for r in running if r["typ"] == t) for t in TYPER},
            **{f: sum(1 for r in running if r["form"] == f) for f in FORMER},
            "median_dagar": median([r["dagar"] for r in running]),
        }

    def flow(items: list[dict[str, Any]]) -> dict[str, Any]:
        new = [r for r in items if r["start"] >= p.start.isoformat()]
        ended = [r for r in items if r["slut"] is not None]
        return {
            "nya": len(new),
            "avslutade": len(ended),
            "omplaceringar": sum(r["omplaceringar"] for r in items),
            "median_dagar_avslutade": median([r["dagar"] for r in ended]),
            **{f"nya_{t}": sum(1 for r in new if r["typ"] == t) for t in TYPER},
            **{f"nya_{f}": sum(1 for r in new if r["form"] == f) for f in FORMER},
        }

    return {
        "rows": rows,
        "bestand": split(rows, lambda r: r["kon"], lambda r: r["aldersgrupp"], stock),
        "flode": split(rows, lambda r: r["kon"], lambda r: r["aldersgrupp"], flow),
    }


@dataclass
class _Cell:
    """Dygn and cost of one (type, unit)."""

    dygn: int = 0
    kostnad: float = 0.0
    dygn_utan_belopp: int = 0

    def add(self, stay: Stay, days: int) -> None:
        self.dygn += days
        self.kostnad = round(self.kostnad + _cost(stay, days), 2)
        if stay.belopp_per_dygn is None:
            self.dygn_utan_belopp += days

    def to_json(self) -> dict[str, Any]:
        return {
            "dygn": self.dygn,
            "kostnad": self.kostnad,
            "dygn_utan_belopp": self.dygn_utan_belopp,
        }


def _total(cells: Iterable[_Cell]) -> dict[str, Any]:
    items = list(cells)
    return {
        "dygn": sum(c.dygn for c in items),
        "kostnad": round(float(sum(c.kostnad for c in items)), 2),
    }


def _cost(stay: Stay, days: int) -> float:
    return round(float(days * stay.belopp_per_dygn), 2) if stay.belopp_per_dygn is not None else 0.0


def placeringskostnader(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Callable[[bytes], bytes]
) -> dict[str, Any]:
    """Dygn and cost per placement type and unit in ``p``, and the overlaps of one child."""
    every = kommun_placements(curs, schema, kommun, p)
    sums: dict[tuple[str, str], _Cell] = defaultdict(_Cell)
    by_case: dict[str, list[tuple[Placement, Stay]]] = defaultdict(list)
    for pl in every:
        for stay in pl.stays:
            days = _days(stay.start, stay.end, p)
            if days == 0:
                continue
            sums[(pl.typ, pl.enhet or "okand")].add(stay, days)
            by_case[pl.case_ref].append((pl, stay))
    cells = sorted(sums.items(), key=lambda kv: kv[0])
    rows = [{"typ": t, "enhet": e, **c.to_json()} for (t, e), c in cells]
    overlaps = []
    for case_ref in sorted(by_case):
        stays = by_case[case_ref]
        for i, (a, sa) in enumerate(stays):
            for b, sb in stays[i + 1 :]:
                if a.key == b.key:
                    continue
                start = max(sa.start, sb.start, p.start)
                ends = [e for e in (sa.end, sb.end) if e is not None]
                stop = min([*ends, p.end + timedelta(days=1)])
                days = (stop - start).days
                if days <= 0:
                    continue
                overlaps.append(
                    {
                        "case_ref": case_ref,
                        "placeringar": [a.key, b.key],
                        "fran": start.isoformat(),
                        "till": (stop - timedelta(days=1)).isoformat(),
                        "dygn": days,
                        "kostnad": round(float(_cost(sa, days) + _cost(sb, days)), 2),
                    }
                )
    return {
        "rows": rows,
        "totalt": _total(c for _, c in cells),
        "per_typ": {t: _total(c for (typ, _), c in cells if typ == t) for t in TYPER},
        "dubbla_kostnader": overlaps,
    }
