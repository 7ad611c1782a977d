"""FastAPI dependencies: the services of this app, the authenticated caller, the read purpose."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from infra.api.auth import API_KEY_PREFIX, Principal, authenticate
from infra.api.problems import unavailable
from infra.api.services import Services

_bearer = HTTPBearer(auto_error=False, description="JWT (HS256) or API key (bfk_…)")


def services_of(request: Request) -> Services:
    """The app's services, or 503 for an app built only for its OpenAPI document."""
    services: Services | None = request.app.state.services
    if services is None:
        raise unavailable("this app was built for its OpenAPI document only")
    return services


async def get_services(request: Request) -> Services:
    """``services_of`` as a dependency. ``async`` although it awaits nothing: FastAPI runs a
    plain ``def`` dependency in a worker thread, and that hand-off (there and back on every
    request) was the largest single cost of the HTTP layer (docs/operations.md, "Command
    latency")."""
    return services_of(request)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    services = services_of(request)
    header = None if credentials is None else f"Bearer {credentials.credentials}"
    if (
        header is not None
        and credentials is not None
        and credentials.credentials.startswith(API_KEY_PREFIX)
    ):  # a database lookup: off the event loop
        return await asyncio.to_thread(
            authenticate, services.store, services.config.jwt_key, header
        )
    return authenticate(services.store, services.config.jwt_key, header, services.config.token_ttl)


async def purpose(
    x_barnflow_purpose: Annotated[
        str | None,
        Header(
            max_length=200,
            description="why the case is read (kept in the access log), e.g. 'utredning'",
        ),
    ] = None,
) -> str:
    return x_barnflow_purpose or "ej angivet"


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
PurposeDep = Annotated[str, Depends(purpose)]
