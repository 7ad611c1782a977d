"""Utredningstider (docs/domain.md §5.4) and barnets röst (§5.6) per half-year, by kön and age.

An utredning counts in the half-year it was closed; its length is inledd → avslutad in calendar
days and it is "over 4 months" when it closed after the statutory 4-month date (B1), whether or
not a förlängning moved its due date (both shares are shown).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between
from domain.evb import forhandsbedomning_in_time
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, age_on, flatten, kon_of, median, percentile, share, split
from projections.tables import ANMALNINGAR, UPPFOLJNINGAR, UTREDNINGAR


def _closed_utredningar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period
) -> list[dict[str, Any]]:
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND avslutad BETWEEN %s AND %s "
            "ORDER BY avslutad, case_ref, utredning_id"
        ).format(table_ref(schema, UTREDNINGAR.name)),
        (kommun, p.start, p.end),
    )
    return [dict(r) for r in curs.fetchall()]


def _kon(r: dict[str, Any]) -> str:
    return kon_of(r["kon"])


def utredningstider(curs: Cursor[DictRow], schema: str, kommun: str, p: Period) -> dict[str, Any]:
    utr = _closed_utredningar(curs, schema, kommun, p)

    def m_utr(items: list[dict[str, Any]]) -> dict[str, Any]:
        days = [days_between(i["inledd"], i["avslutad"]) for i in items]
        over = [i for i in items if i["avslutad"] > i["original_due"]]
        return {
            "antal": len(items),
            "over_4_man": len(over),
            "andel_over_4_man": share(len(over), len(items)),
            "over_4_man_med_forlangning": sum(1 for i in over if i["forlangd"]),
            "over_4_man_utan_forlangning": sum(1 for i in over if not i["forlangd"]),
            "median_dagar": median(days),
            "p90_dagar": percentile(days, 90),
        }

    anm = table_ref(schema, ANMALNINGAR.name)
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND forhandsbedomning BETWEEN %s AND %s "
            "ORDER BY mottagen, case_ref, anmalan_id"
        ).format(anm),
        (kommun, p.start, p.end),
    )
    fb = [dict(r) for r in curs.fetchall()]

    def m_fb(items: list[dict[str, Any]]) -> dict[str, Any]:
        ok = sum(
            1 for i in items if forhandsbedomning_in_time(i["mottagen"], i["forhandsbedomning"])
        )
        return {
            "antal": len(items),
            "inom_14_dagar": ok,
            "andel_inom_14_dagar": share(ok, len(items)),
        }

    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND mottagen BETWEEN %s AND %s "
            "ORDER BY mottagen, case_ref, anmalan_id"
        ).format(anm),
        (kommun, p.start, p.end),
    )
    sk = [dict(r) for r in curs.fetchall()]

    def m_sk(items: list[dict[str, Any]]) -> dict[str, Any]:
        same = sum(1 for i in items if i["skyddsbedomning"] == i["mottagen"])
        return {"antal": len(items), "samma_dag": same, "andel_samma_dag": share(same, len(items))}

    sections = {
        "utredningar": split(
            utr, _kon, lambda i: age_band(i["fodelsedatum"], i["avslutad"]), m_utr
        ),
        "forhandsbedomningar": split(
            fb, _kon, lambda i: age_band(i["fodelsedatum"], i["mottagen"]), m_fb
        ),
        "skyddsbedomningar": split(
            sk, _kon, lambda i: age_band(i["fodelsedatum"], i["mottagen"]), m_sk
        ),
    }
    rows = [row for name, s in sections.items() for row in flatten(name, s)]
    return {"rows": rows, **sections}


def happened_by(day: date | None, end: date) -> bool:
    """Whether something dated ``day`` had happened by ``end`` (the period's last day)."""
    return day is not None and day <= end


def barnets_rost(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    p: Period,
    unseal: Callable[[bytes], bytes],
) -> dict[str, Any]:
    """Share of closed utredningar and insats-uppföljningar where the child was heard, barnenkät
    offered to children aged 6–17 at the utredning's end, and the utredningar where they were not.

    Only what had happened by the half-year's last day counts: a hearing, a barnenkät or a reason
    recorded with a later date does not change this half-year's report.
    """
    utr = [
        {
            **i,
            "hord": happened_by(i["hord_datum"], p.end),
            "barnenkat": happened_by(i["barnenkat_datum"], p.end),
        }
        for i in _closed_utredningar(curs, schema, kommun, p)
    ]

    def m_heard(items: list[dict[str, Any]]) -> dict[str, Any]:
        heard = sum(1 for i in items if i["hord"])
        return {"antal": len(items), "barnet_hort": heard, "andel_hort": share(heard, len(items))}

    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND datum BETWEEN %s AND %s "
            "ORDER BY datum, case_ref, seq"
        ).format(table_ref(schema, UPPFOLJNINGAR.name)),
        (kommun, p.start, p.end),
    )
    upp = [{**r, "hord": r["barnet_hort"]} for r in curs.fetchall()]

    def school_age(i: dict[str, Any]) -> bool:
        age = age_on(i["fodelsedatum"], i["avslutad"])
        return age is not None and 6 <= age <= 17

    def m_enkat(items: list[dict[str, Any]]) -> dict[str, Any]:
        offered = sum(1 for i in items if i["barnenkat"])
        return {
            "antal_6_17_ar": len(items),
            "barnenkat_erbjuden": offered,
            "andel_erbjuden": share(offered, len(items)),
        }

    sections = {
        "utredningar": split(
            utr, _kon, lambda i: age_band(i["fodelsedatum"], i["avslutad"]), m_heard
        ),
        "insats_uppfoljningar": split(
            upp, _kon, lambda i: age_band(i["fodelsedatum"], i["datum"]), m_heard
        ),
        "barnenkat": split(
            [i for i in utr if school_age(i)],
            _kon,
            lambda i: age_band(i["fodelsedatum"], i["avslutad"]),
            m_enkat,
        ),
    }
    not_heard = [
        {
            "case_ref": i["case_ref"],
            "utredning_id": i["utredning_id"],
            "avslutad": i["avslutad"].isoformat(),
            "skal": unseal(i["ej_hord_skal"]).decode()
            if i["ej_hord_skal"] is not None and happened_by(i["ej_hord_datum"], p.end)
            else None,
            "kon": _kon(i),
            "aldersgrupp": age_band(i["fodelsedatum"], i["avslutad"]),
        }
        for i in utr
        if not i["hord"]
    ]
    rows = [row for name, s in sections.items() for row in flatten(name, s)]
    return {"rows": rows, **sections, "ej_hord": not_heard}
