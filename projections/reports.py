"""Every report of docs/domain.md §5 by name, with the period option it takes (the CLI and the HTTP
API both serve exactly this registry).

``build`` returns a JSON-ready dict whose content depends only on the record and the kommun's
configuration version the views were computed with (no generation time): rows are ordered by
the report, so ``orjson.dumps(..., option=OPT_SORT_KEYS)`` of a rebuilt view is byte-identical to
the original. ``views_config`` names that version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import orjson
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.returns import rule_set
from domain.rules import DEFAULT_POLICY, KommunPolicy
from projections import (
    arsstatistik,
    barnchecklista,
    delegationsbeslut,
    evb,
    evb_snapshot,
    extracts,
    frister,
    klagomal,
    overklaganden,
    placed,
    placeringar,
    utan_delegation,
    utredning,
)
from projections.access_reads import COLUMNS as ACCESS_COLUMNS
from projections.access_reads import access_log_report
from projections.periods import Period, parse_period
from projections.protection import mask_protected
from projections.source import report_cursor
from projections.timeline import case_timeline
from projections.view import ReportsView, open_view

__all__ = [
    "REPORTS",
    "SNAPSHOT_REPORTS",
    "ReportOptions",
    "ReportSpec",
    "case_timeline",
    "dumps",
    "from_snapshot",
    "many",
    "opened",
    "views_config",
]


@dataclass(frozen=True)
class ReportOptions:
    """Options some reports take: closed frister too, and the kommun's policy (local targets,
    recomputed frister). ``policy=None`` (the default): the policy of the configuration version
    the views were computed with (``ReportsView.policy``), so a report and its views agree."""

    include_closed: bool = False
    policy: KommunPolicy | None = None

    @property
    def kommun_policy(self) -> KommunPolicy:
        return self.policy or DEFAULT_POLICY


#: (cursor, schema, kommun, period, options, unseal): ``unseal`` decrypts the views' sealed
#: free text with the store's cipher.
Unseal = Callable[[bytes], bytes]


class Builder(Protocol):
    def __call__(
        self, c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
    ) -> dict[str, Any]: ...


class RecordBuilder(Protocol):
    def __call__(
        self,
        events: list[Any],
        kommun: str,
        period: Period,
        options: ReportOptions,
        known_at: datetime | None,
        /,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ReportSpec:
    """A report: its name, the period kind it takes, its table/CSV columns and its builder."""

    name: str
    period: str  # as_of | quarter | half | month | year
    title: str
    columns: tuple[str, ...]
    builder: Builder | None
    #: True if ``--known-at`` changes the answer (it needs the record, not only the views).
    time_travel: bool = True
    #: Other period kinds the report also takes: the half-yearly and yearly figures of the
    #: nämnd's quarterly report (``projections.kvartal``) are these reports over a quarter, and
    #: ``--quarter`` prints the very table the page shows.
    also: tuple[str, ...] = ()
    #: Raises ``ValueError`` (one line) for a period of the right kind the report cannot serve
    #: (``arsstatistik``: a year without a rule set); the CLI and API ask before building.
    period_check: Callable[[Period], None] | None = None
    #: A report on the complaints' and lex Sarah record instead of the views (``builder`` None):
    #: it reads that record (``infra.persistence.kvalitet``) and is masked like the others.
    record_builder: RecordBuilder | None = None
    #: Summaries that name a unit, recomputed from the rows after masking (POL-SKYDD-ENHET): a
    #: protected case's row reads ``⟨skyddad⟩`` for its enhet, so the per-enhet table counts it
    #: there too and never names a unit that only a protected case put in the report.
    regroup: Callable[[dict[str, Any]], None] | None = None

    @property
    def periods(self) -> tuple[str, ...]:
        """Every period kind the report takes, its own first."""
        return (self.period, *self.also)

    def check_period(self, period: Period) -> None:
        """``ValueError`` when the report cannot serve ``period`` (see ``period_check``)."""
        if period.kind not in self.periods:
            raise ValueError(f"report {self.name} takes a {self.period} period, not {period.kind}")
        if self.period_check is not None:
            self.period_check(period)

    def build(
        self,
        source: ReportsView | Mapping[str, str],
        kommun: str,
        period: Period,
        *,
        known_at: datetime | None = None,
        options: ReportOptions | None = None,
    ) -> dict[str, Any]:
        """The report document for ``kommun`` and ``period`` (as known at ``known_at``)."""
        self.check_period(period)
        # the complaints' record is read before the views' transaction opens: opening its
        # store inside it would leave that transaction idle (idle_in_transaction timeout)
        events = None if self.record_builder is None else kvalitet_events(source, kommun)
        with many(source, kommun, known_at=known_at, records=events) as build:
            return build(self.name, period, options)

    def _document(
        self,
        view: ReportsView,
        curs: Cursor[DictRow],
        schema: str,
        *,
        kommun: str,
        period: Period,
        known_at: datetime | None,
        opts: ReportOptions,
        records: list[Any] | None = None,
    ) -> dict[str, Any]:
        self.check_period(period)
        if opts.policy is None:
            opts = replace(opts, policy=view.policies(curs).get(kommun, DEFAULT_POLICY))
        if self.record_builder is not None:
            if records is None:  # through ``many``: read here, inside the views' transaction
                records = _kvalitet_events(view, kommun)
            body = self.record_builder(records, kommun, period, opts, known_at)
        else:
            assert self.builder is not None, f"report {self.name} has no builder"
            body = self.builder(
                curs,
                schema if self.time_travel else view.schema,
                kommun,
                period,
                opts,
                u=view.unseal,
            )
        if mask_protected(body, curs, view.schema, kommun, view.unseal) and self.regroup:
            self.regroup(body)
        return {
            "report": self.name,
            "title": self.title,
            "kommun": kommun,
            "period": period.to_json(),
            "known_at": known_at.isoformat() if known_at else None,
            "columns": list(self.columns),
            **body,
        }


@contextmanager
def _view(source: ReportsView | Mapping[str, str]) -> Iterator[ReportsView]:
    """The views themselves, or views opened from an environment for the block (and closed)."""
    if isinstance(source, ReportsView):
        yield source
        return
    view = open_view(source)
    try:
        yield view
    finally:
        view.datastore.close()


#: What every reader of the views opens them with (the reports, the quarterly page).
opened = _view


#: ``build(name, period, options=None)``: one report's document (as ``ReportSpec.build``).
ManyBuilder = Callable[..., dict[str, Any]]


@contextmanager
def many(
    source: ReportsView | Mapping[str, str],
    kommun: str,
    *,
    known_at: datetime | None = None,
    records: list[Any] | None = None,
) -> Iterator[ManyBuilder]:
    """Several reports of ``kommun`` over one cursor: as known at ``known_at`` the record is
    folded into temporary tables once, not once per report (the quarterly page builds fourteen).
    Each document is exactly what ``ReportSpec.build`` returns (it is built through here).

    ``records``: the kommun's complaints' and lex Sarah events (``kvalitet_events``), read
    before the views' transaction opens; a report on that record built without them reads them
    inside it."""
    with _view(source) as view, report_cursor(view, kommun, known_at) as (curs, schema):

        def build(
            name: str, period: Period, options: ReportOptions | None = None
        ) -> dict[str, Any]:
            spec = REPORTS[name]
            opts = options or ReportOptions()
            return spec._document(
                view,
                curs,
                schema,
                kommun=kommun,
                period=period,
                known_at=known_at,
                opts=opts,
                records=records,
            )

        yield build


def kvalitet_events(source: ReportsView | Mapping[str, str], kommun: str) -> list[Any]:
    """The kommun's complaints' and lex Sarah events (for ``many``'s ``records``)."""
    with _view(source) as view:
        return _kvalitet_events(view, kommun)


def views_config(source: ReportsView | Mapping[str, str], kommun: str) -> str | None:
    """The configuration version of ``kommun`` the views (and so the reports) computed with
    (``None``: the documented defaults)."""
    with _view(source) as view:
        return view.versions().get(kommun)


def dumps(report: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a report (sorted keys): equal reports give equal bytes."""
    return orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def _frister(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return {
        "rows": frister.frister_rows(
            c, s, k, p.end, u, include_closed=o.include_closed, policy=o.kommun_policy
        )
    }


def _evb(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return evb.evb_report(c, s, k, p, u)


def _kf(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return evb.kf_statistik(c, s, k, p)


def _individ(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return evb_snapshot.individrapport(k, p, evb.evb_report(c, s, k, p, u)["rows"])


def _utr(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return utredning.utredningstider(c, s, k, p)


def _verk(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return evb.verkstallighetstider(c, s, k, p, o.kommun_policy)


def _rost(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return utredning.barnets_rost(c, s, k, p, u)


def _barncheck(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return barnchecklista.barnchecklista(c, s, k, p, u)


def _deleg(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return delegationsbeslut.delegationsbeslut(c, s, k, p, o.kommun_policy)


def _utan(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return utan_delegation.utan_delegation(c, s, k, p)


def _access(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return access_log_report(c, s, k, p)


def _overklaganden(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return overklaganden.overklaganden(c, s, k, p, o.kommun_policy)


def _avvikningar(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return placed.avvikningar(c, s, k, p, u)


def _kontinuitet(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return placed.kontinuitet(c, s, k, p, u)


def _placerade(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return placeringar.placerade_barn(c, s, k, p, u)


def _kostnader(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return placeringar.placeringskostnader(c, s, k, p, u)


def _aktualiseringar(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return extracts.aktualiseringar(c, s, k, p, u)


def _avslutade(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return extracts.avslutade_utredningar(c, s, k, p)


def _arsstatistik(
    c: Cursor[DictRow], s: str, k: str, p: Period, o: ReportOptions, /, *, u: Unseal
) -> dict[str, Any]:
    return arsstatistik.arsstatistik(c, s, k, p, u)


def _return_year(p: Period) -> None:
    rule_set(p.start.year)  # UnknownReturnYear (a ValueError) names the years there are


def _kvalitet_events(view: ReportsView, kommun: str) -> list[Any]:
    """The kommun's complaints' and lex Sarah events, from a store opened for this report."""
    from infra.persistence.kvalitet import open_kvalitet

    store = open_kvalitet(view.store_env)
    try:
        return store.kommun_events(kommun)
    finally:
        store.close()


def _as_of(period: Period, known_at: datetime | None) -> Any:
    from infra.config.clock import today_stockholm

    return klagomal.report_as_of(period.end, today_stockholm(), known_at)


def _klagomal(
    events: list[Any],
    k: str,
    p: Period,
    o: ReportOptions,
    known_at: datetime | None,
    /,
) -> dict[str, Any]:
    return klagomal.klagomal_report(
        events,
        k,
        p.start,
        p.end,
        policy=o.kommun_policy,
        as_of=_as_of(p, known_at),
        known_at=known_at,
    )


def _lex_sarah(
    events: list[Any],
    k: str,
    p: Period,
    o: ReportOptions,
    known_at: datetime | None,
    /,
) -> dict[str, Any]:
    return klagomal.lex_sarah_report(
        events,
        k,
        p.start,
        p.end,
        policy=o.kommun_policy,
        as_of=_as_of(p, known_at),
        known_at=known_at,
    )


_SPLIT_COLUMNS = ("avsnitt", "grupp", "antal")

REPORTS: dict[str, ReportSpec] = {
    s.name: s
    for s in (
        ReportSpec("frister", "as_of", "Frister", frister.COLUMNS, _frister),
        ReportSpec("evb", "quarter", "Ej verkställda beslut till IVO", evb.EVB_COLUMNS, _evb),
        ReportSpec(
            "individrapport",
            "quarter",
            "Individrapport till IVO (ej verkställda beslut)",
            evb_snapshot.INDIVIDRAPPORT_COLUMNS,
            _individ,
        ),
        ReportSpec(
            "kf-statistik",
            "quarter",
            "Statistikrapport till kommunfullmäktige",
            ("insatstyp", "kon", "antal"),
            _kf,
        ),
        ReportSpec(
            "utredningstider",
            "half",
            "Utredningstider",
            (
                *_SPLIT_COLUMNS,
                "andel_over_4_man",
                "median_dagar",
                "p90_dagar",
                "andel_inom_14_dagar",
                "andel_samma_dag",
            ),
            _utr,
            also=("quarter",),
        ),
        ReportSpec(
            "verkstallighetstider",
            "quarter",
            "Verkställighetstider",
            ("insatstyp", "antal", "median_dagar", "p90_dagar", "mal_dagar", "andel_inom_mal"),
            _verk,
        ),
        ReportSpec(
            "barnets-rost",
            "half",
            "Barnets röst",
            (*_SPLIT_COLUMNS, "andel_hort", "antal_6_17_ar", "andel_erbjuden"),
            _rost,
            also=("quarter",),
        ),
        ReportSpec(
            "barnchecklista",
            "half",
            "Barnchecklista: berört, hört och informerat per beslut",
            barnchecklista.COLUMNS,
            _barncheck,
            also=("quarter",),
            regroup=lambda body: body.update(per_enhet=barnchecklista.per_enhet(body["rows"])),
        ),
        ReportSpec(
            "delegationsbeslut",
            "month",
            "Delegationsbeslut (anmälan till nämnden)",
            delegationsbeslut.COLUMNS,
            _deleg,
        ),
        ReportSpec(
            "utan-delegation",
            "as_of",
            "Beslut utan delegation",
            utan_delegation.COLUMNS,
            _utan,
        ),
        ReportSpec("access-log", "month", "Läsloggen", ACCESS_COLUMNS, _access, time_travel=False),
        ReportSpec(
            "overklaganden",
            "as_of",
            "Överklaganden som pågår",
            overklaganden.COLUMNS,
            _overklaganden,
        ),
        ReportSpec(
            "avvikningar",
            "year",
            "Avvikningar från placering",
            placed.AVVIKNING_COLUMNS,
            _avvikningar,
        ),
        ReportSpec(
            "kontinuitet",
            "as_of",
            "Kontinuitet: byten av socialsekreterare per placering",
            placed.KONTINUITET_COLUMNS,
            _kontinuitet,
            regroup=lambda body: body.update(per_enhet=placed.kontinuitet_per_enhet(body["rows"])),
        ),
        ReportSpec(
            "placerade-barn",
            "quarter",
            "Placerade barn: bestånd och flöde",
            placeringar.PLACERADE_COLUMNS,
            _placerade,
        ),
        ReportSpec(
            "placeringskostnader",
            "quarter",
            "Placeringskostnader",
            placeringar.KOSTNAD_COLUMNS,
            _kostnader,
        ),
        ReportSpec(
            "aktualiseringar",
            "year",
            "Aktualiseringar (uppföljning: anmälan, ansökan, eget initiativ)",
            extracts.AKTUALISERING_COLUMNS,
            _aktualiseringar,
        ),
        ReportSpec(
            "avslutade-utredningar",
            "year",
            "Avslutade utredningar (uppföljning: längd och utfall)",
            extracts.AVSLUTADE_COLUMNS,
            _avslutade,
            also=("quarter",),
        ),
        ReportSpec(
            "arsstatistik",
            "year",
            "Årlig statistik till Socialstyrelsen: barn och unga med insatser (SFS 1981:1370)",
            arsstatistik.ALL_COLUMNS,
            _arsstatistik,
            period_check=_return_year,
        ),
        ReportSpec(
            "klagomal",
            "year",
            "Synpunkter och klagomål: sammanställning för kvalitetsberättelsen",
            klagomal.KLAGOMAL_COLUMNS,
            None,
            record_builder=_klagomal,
            also=("quarter",),
        ),
        ReportSpec(
            "lex-sarah",
            "year",
            "Lex Sarah: rapporter, utredningar, bedömningar och anmälan till IVO",
            klagomal.LEX_SARAH_COLUMNS,
            None,
            record_builder=_lex_sarah,
            also=("quarter",),
        ),
    )
}


#: The reports a frozen EVB quarter can print (``barnflow report NAME --snapshot``).
SNAPSHOT_REPORTS = ("evb", "individrapport", "kf-statistik")


def from_snapshot(name: str, frozen: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Report ``name`` from a frozen ``evb`` document (``frozen``: what ``REPORTS["evb"].build``
    returned at the freeze), with ``meta`` (version, position, digest) under ``snapshot``. All
    three are computed from the same stored rows, so they agree by construction."""
    if name not in SNAPSHOT_REPORTS:
        raise ValueError(f"report {name} has no snapshot (only {', '.join(SNAPSHOT_REPORTS)})")
    spec = REPORTS[name]
    period = parse_period("quarter", frozen["period"]["label"])
    rows = list(frozen["rows"])
    if name == "evb":
        body: dict[str, Any] = {
            k: v for k, v in frozen.items() if k in ("rows", "rapportfonster", "summary")
        }
    elif name == "kf-statistik":
        body = evb_snapshot.kf_from_rows(period, rows)
    else:
        body = evb_snapshot.individrapport(frozen["kommun"], period, rows)
    return {
        "report": spec.name,
        "title": spec.title,
        "kommun": frozen["kommun"],
        "period": frozen["period"],
        "known_at": frozen["known_at"],
        "columns": list(spec.columns),
        "snapshot": dict(meta),
        **body,
    }
