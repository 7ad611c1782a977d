"""``GET /reports/{name}``: every report of docs/domain.md §5
(``projections.reports.REPORTS``), with the same names and period options as ``barnflow
report``; ``min_position`` waits for the views.
A report only reads the views (the projection runner writes them) and says how current they are
in the headers ``Barnflow-Views-Position``, ``Barnflow-Store-Head`` and ``Barnflow-Views-Lag``
(events recorded but not yet in the views). ``kommun_config`` names the kommun's configuration
version the views were computed with (docs/rules.md, "Which configuration version applies").

A unit-bound caller gets the rows of its units' cases where a report's rows name the ``enhet``
(frister); a report that only exists for the whole kommun (statistics, IVO lists, the access log)
is refused to it (403) rather than shown with other units' cases in it.

``format=csv`` and ``format=csv-excel`` answer ``text/csv`` instead of the JSON (the same rows and
columns as ``barnflow report --format csv|csv-excel``, led by the metadata columns rapport,
kommun, period, per_datum and kant_per; ``csv-excel`` is UTF-8 with BOM, ``;`` and a decimal
comma for a Swedish Excel). The JSON states the same in its fields report, title, kommun,
period (its ``end`` is the as-of date) and known_at.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from infra.api.auth import Principal
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import ReportOut
from infra.api.problems import Problem
from infra.api.services import Services
from infra.config.clock import today_stockholm

router = APIRouter(prefix="/reports", tags=["reports"])

ReportFormat = Literal["json", "csv", "csv-excel"]
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the report as JSON, or as CSV with format=csv or format=csv-excel",
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "\ufeffrapport;kommun;period;per_datum;insatstyp;kon;antal\r\n"
                "kf-statistik;1280;2026Q1;2026-03-31;kontaktperson;flicka;2\r\n",
            }
        },
    }
}


def report_names() -> tuple[str, ...]:
    from projections.reports import REPORTS

    return tuple(REPORTS)


def _current(kind: str) -> str:
    """The period of that kind containing today (Europe/Stockholm), the CLI's default too."""
    from projections.periods import period_containing

    return period_containing(kind, today_stockholm())


def _build(
    services: Services,
    name: str,
    principal: Principal,
    options: dict[str, str | None],
    known_at: Any,
    *,
    snapshot: str | None = None,
) -> dict[str, Any]:
    from projections import periods
    from projections.reports import REPORTS, views_config

    spec = REPORTS.get(name)
    if spec is None:
        raise Problem(404, "not-found", f"no report {name!r}; reports: {', '.join(REPORTS)}")
    # a report on the complaints' and lex Sarah record sums every unit in its summary
    whole_kommun = "enhet" not in spec.columns or spec.record_builder is not None
    if not principal.sees_unit(None) and whole_kommun:
        raise Problem(
            403,
            "forbidden-unit",
            f"report {name} covers every unit of the kommun; the caller is bound to units",
        )
    given = {k: v for k, v in options.items() if v is not None}
    other = sorted(set(given) - set(spec.periods))
    if other:
        raise Problem(
            422,
            "validation",
            f"{other[0]}: report {name} takes {' or '.join(spec.periods)} only",
            field=other[0],
        )
    if len(given) > 1:
        raise Problem(422, "validation", f"report {name} takes one period", field=sorted(given)[1])
    # the report's own period, or one of the others it also takes (utredningstider quarter=)
    kind = next((k for k in spec.periods if k in given), str(spec.period))
    raw = given.get(kind)
    try:
        period = periods.parse_period(kind, raw if raw is not None else _current(kind))
        spec.check_period(period)
    except ValueError as exc:  # a PeriodError, or a period the report cannot serve
        raise Problem(422, "validation", str(exc), field=kind) from None
    source = services.report_source or services.store.env
    if snapshot is not None:
        return _from_snapshot(
            services, source, name, principal.kommun, period=period, snapshot=snapshot
        )
    result: dict[str, Any] = spec.build(source, principal.kommun, period, known_at=known_at)
    result["kommun_config"] = views_config(source, principal.kommun)
    if not principal.sees_unit(None):
        result["rows"] = [r for r in result.get("rows", []) if principal.sees_unit(r["enhet"])]
    return result


def _from_snapshot(
    services: Services, source: Any, name: str, kommun: str, *, period: Any, snapshot: str
) -> dict[str, Any]:
    """Report ``name`` from the frozen quarter (``barnflow report NAME --snapshot``): the
    individrapport, the KF statistikrapport and the evb table from one set of stored rows."""
    from infra.persistence.snapshots import SnapshotError, load
    from projections.reports import SNAPSHOT_REPORTS, from_snapshot, opened

    if name not in SNAPSHOT_REPORTS:
        raise Problem(
            422,
            "validation",
            f"snapshot: only {', '.join(SNAPSHOT_REPORTS)} read a frozen quarter",
            field="snapshot",
        )
    version = None if snapshot == "latest" else int(snapshot)
    with opened(source) as view:
        try:
            snap = load(services.store, kommun, period.label, view.unseal, version)
        except SnapshotError as exc:
            raise Problem(404, "not-found", str(exc)) from None
    meta = {
        "version": snap.version,
        "position": snap.position,
        "digest": snap.digest,
        "reason": snap.reason,
    }
    return from_snapshot(name, snap.doc, meta)


@router.get(
    "/{name}",
    summary="A report of docs/domain.md §5 for the caller's kommun",
    response_model=ReportOut,
    responses=_CSV_RESPONSE,
)
async def report(
    *,
    name: Annotated[str, Path(pattern=r"^[a-z][a-z-]{1,40}$")],
    services: ServicesDep,
    principal: PrincipalDep,
    response: Response,
    as_of: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    quarter: Annotated[str | None, Query(max_length=6, description="e.g. 2026Q2")] = None,
    half: Annotated[str | None, Query(max_length=6, description="e.g. 2026H1")] = None,
    month: Annotated[str | None, Query(max_length=7, description="e.g. 2026-03")] = None,
    year: Annotated[str | None, Query(max_length=4, description="e.g. 2026")] = None,
    known_at: Annotated[datetime | None, Query(description="as known at this time")] = None,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    snapshot: Annotated[
        str | None,
        Query(
            pattern=r"^(latest|[1-9][0-9]{0,8})$",
            description="evb, individrapport, kf-statistik: read the frozen quarter (a version "
            "number, or latest) instead of the live views (barnflow report freeze)",
        ),
    ] = None,
    format: Annotated[
        ReportFormat,
        Query(description="json (default), csv, or csv-excel (UTF-8 BOM, ';', decimal comma)"),
    ] = "json",
) -> ReportOut | Response:
    principal.require_content()
    if known_at is not None and known_at.tzinfo is None:
        raise Problem(422, "validation", "known_at: needs a UTC offset", field="known_at")
    if snapshot is not None and known_at is not None:
        raise Problem(
            422,
            "validation",
            "known_at: a snapshot is as known when it was frozen",
            field="known_at",
        )
    await services.wait_for_projections(min_position)
    options = {"as_of": as_of, "quarter": quarter, "half": half, "month": month, "year": year}
    # the position before the build: the report contains at least this much
    position = await asyncio.to_thread(services.projected_position)
    body = await asyncio.to_thread(
        _build, services, name, principal, options, known_at, snapshot=snapshot
    )
    head = await asyncio.to_thread(services.store.max_position)
    response.headers["Barnflow-Views-Position"] = str(position)
    response.headers["Barnflow-Store-Head"] = str(head)
    response.headers["Barnflow-Views-Lag"] = str(max(head - position, 0))
    rows = body.get("rows", [])
    if format != "json":
        answer = _csv_response(body, name, principal.kommun, rows, excel=format == "csv-excel")
        for header in ("Barnflow-Views-Position", "Barnflow-Store-Head", "Barnflow-Views-Lag"):
            answer.headers[header] = response.headers[header]
        return answer
    return ReportOut.model_validate(
        {**body, "report": name, "kommun": principal.kommun, "rows": rows}
    )


def _csv_response(
    body: dict[str, Any], name: str, kommun: str, rows: list[dict[str, Any]], *, excel: bool
) -> Response:
    """The report's rows as a CSV file named after the report, kommun and period."""
    from projections.report_csv import report_meta, to_csv

    meta = report_meta({**body, "report": name, "kommun": kommun})
    text = to_csv(rows, body.get("columns", []), meta, excel=excel) + ("\r\n" if excel else "\n")
    filename = f"{name}-{kommun}-{meta['period']}.csv"
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
