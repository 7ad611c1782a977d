"""``GET /reports/kvartal``: the nämnd's quarterly report (``barnflow report kvartal``) as one
self-contained HTML page, or with ``format=pdf`` as a PDF of it (``projections.kvartal``).

Registered before ``GET /reports/{name}`` (the registry has no report of that name: the page is
built from its reports, not one of them). Like every kommun-wide report it is refused to a
unit-bound caller (403), and it states how current the views are in the same headers.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.problems import Problem
from infra.config.clock import today_stockholm

router = APIRouter(prefix="/reports", tags=["reports"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the page as HTML (default) or, with format=pdf, as a PDF",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _render(
    source: Any,
    kommun: str,
    *,
    quarter: str | None,
    as_of: date | None,
    known_at: datetime | None,
    position: int,
    pdf: bool,
) -> tuple[bytes, str]:
    from projections.kvartal.model import KvartalError, page_period
    from projections.kvartal.page import build_page, render_html
    from projections.kvartal.pdf import html_to_pdf

    try:
        period = page_period(quarter, as_of, today_stockholm())
    except KvartalError as exc:
        field = "as_of" if str(exc).startswith("--as-of") else "quarter"
        raise Problem(422, "validation", str(exc).removeprefix("--"), field=field) from None
    page = build_page(source, kommun, period, known_at=known_at, position=position)
    html = render_html(page)
    return (html_to_pdf(html) if pdf else html.encode("utf-8")), period.label


@router.get(
    "/kvartal",
    summary="The nämnd's quarterly report: an HTML page with charts and tables, or its PDF",
    response_class=Response,
    responses=_RESPONSES,
)
async def kvartal(
    *,
    services: ServicesDep,
    principal: PrincipalDep,
    quarter: Annotated[str | None, Query(max_length=8, description="e.g. 2026Q3")] = None,
    as_of: Annotated[
        date | None, Query(description="cut the quarter at this legal date (the quarter so far)")
    ] = None,
    known_at: Annotated[datetime | None, Query(description="as known at this time")] = None,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    format: Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")] = "html",
) -> Response:
    principal.require_content()
    if not principal.sees_unit(None):
        raise Problem(
            403,
            "forbidden-unit",
            "report kvartal covers every unit of the kommun; the caller is bound to units",
        )
    if known_at is not None and known_at.tzinfo is None:
        raise Problem(422, "validation", "known_at: needs a UTC offset", field="known_at")
    await services.wait_for_projections(min_position)
    position = await asyncio.to_thread(services.projected_position)
    source = services.report_source or services.store.env
    body, label = await asyncio.to_thread(
        _render,
        source,
        principal.kommun,
        quarter=quarter,
        as_of=as_of,
        known_at=known_at,
        position=position,
        pdf=format == "pdf",
    )
    head = await asyncio.to_thread(services.store.max_position)
    suffix = "pdf" if format == "pdf" else "html"
    return Response(
        content=body,
        media_type="application/pdf" if format == "pdf" else "text/html; charset=utf-8",
        headers={
            "Content-Disposition": (
                f"{'attachment' if format == 'pdf' else 'inline'}; "
                f'filename="kvartal-{principal.kommun}-{label}.{suffix}"'
            ),
            "Barnflow-Views-Position": str(position),
            "Barnflow-Store-Head": str(head),
            "Barnflow-Views-Lag": str(max(head - position, 0)),
        },
    )
