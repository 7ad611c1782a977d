"""``GET /cases/{kommun}/{case_ref}/registerutdrag``: the verksamhetssystem asks, for the person
of one of its cases, for everything barnflow stores about them (GDPR art. 15;
``infra.audit.registerutdrag``). The person is named by a case reference, never by personnummer
in the URL (URLs end up in proxies' logs). Content readers only; the production is logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from infra.api.access import load_case, protected_problem
from infra.api.deps import PrincipalDep, PurposeDep, ServicesDep
from infra.api.problems import Problem
from infra.api.services import Services
from infra.audit.protection import ProtectedCase
from infra.audit.registerutdrag import PersonNotFound, registerutdrag, render_html
from infra.config.clock import today_stockholm
from projections.view import ReportsView, open_view

router = APIRouter(prefix="/cases/{kommun}/{case_ref}", tags=["cases"])


@contextmanager
def _view(services: Services) -> Iterator[ReportsView]:
    source = services.report_source
    if isinstance(source, ReportsView):
        yield source
        return
    view = open_view(source or services.store.env)
    try:
        yield view
    finally:
        view.datastore.close()


def _document(
    services: Services, kommun: str, case_ref: str, *, who: str, role: str, purpose: str
) -> dict[str, Any]:
    with _view(services) as view:
        return registerutdrag(
            services.store,
            view,
            kommun,
            case_ref,
            who=who,
            role=role,
            purpose=purpose,
            at=datetime.now(UTC),
            as_of=today_stockholm(),
            pseudonym_key=services.settings.keys.pseudonym,
            skydd_roles=services.settings.kommun_configs.skydd_roles(kommun),
        )


@router.get(
    "/registerutdrag",
    summary="Everything stored about the case's person (GDPR art. 15), as JSON or HTML; logged",
    response_model=None,
    responses={
        200: {
            "description": "the registerutdrag as JSON, or with format=html as an HTML page",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/html": {"schema": {"type": "string"}},
            },
        }
    },
)
async def case_registerutdrag(
    *,
    kommun: Annotated[str, Path(pattern=r"^\d{4}$", description="4-digit kommunkod")],
    case_ref: Annotated[str, Path(min_length=1, max_length=128)],
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    format: Annotated[Literal["json", "html"], Query(description="json or html")] = "json",
) -> Response:
    principal.require_content()
    await load_case(services, principal, kommun, case_ref)  # kommun, unit, existence
    try:
        doc = await asyncio.to_thread(
            lambda: _document(
                services,
                kommun,
                case_ref,
                who=principal.subject,
                role=principal.role,
                purpose=purpose,
            )
        )
    except PersonNotFound as exc:
        raise Problem(404, "not-found", str(exc)) from None
    except ProtectedCase as exc:
        raise protected_problem(exc.role) from None
    if format == "html":
        return HTMLResponse(render_html(doc))
    return JSONResponse(doc)
