"""RFC 9457 problem details for every 4xx/5xx the API answers.

One exception type (``Problem``) carries status, a stable ``type`` slug and extension members
(``field``, ``rule``, ``sv``/``en``); handlers turn FastAPI's and Starlette's own errors
(validation, 404, 405, malformed JSON) into the same shape, so a calling system parses one format.
An unexpected exception becomes a 500 without its message: messages may carry case content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg
from eventsourcing import persistence as es_persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from temporalio.service import RPCError

from domain.error_texts import closest, field_texts
from domain.errors import EventValidationError, RuleViolation
from domain.events import EVENT_TYPES
from infra.api.texts import problem_texts, pydantic_swedish
from infra.config.timeouts import connection_failure
from infra.temporal.rejections import answer

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://barnflow.se/problems/"
log = logging.getLogger("barnflow.api")

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """An error answered as problem+json; ``extra`` holds the extension members."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def rejection_problem(exc: RuleViolation | EventValidationError) -> Problem:
    """A refused command as problem+json: the answer ``infra.temporal.rejections`` decides
    (409 with the rule id and both languages, or 422 naming the field)."""
    a = answer(exc)
    return Problem(a.status, a.kind, a.detail, **a.members)


def unavailable(detail: str, retry_after: int = 1) -> Problem:
    return Problem(503, "unavailable", detail, headers={"Retry-After": str(retry_after)})


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.kind,
        "title": _TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(problem.extra)
    if 400 <= problem.status < 500 and not ("sv" in body and "en" in body):
        # every 4xx in both languages: a refusal brings its own, the rest from infra.api.texts
        body["sv"], body["en"] = problem_texts(problem.status, problem.detail)
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "data", "barn")`` → ``data.barn``: the field as the event contract names it."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "$"


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") == "json_invalid":
        return problem_response(
            Problem(400, "malformed-json", "the body is not valid JSON"), request.url.path
        )
    field = _field_name(first.get("loc", ()))
    if first.get("type") == "literal_error" and field.startswith("event_types"):
        # an unknown type: the closest known ones, not pydantic's list of every type
        close = closest(str(first.get("input")), EVENT_TYPES)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        sv, en = field_texts(field, f"unknown event type {first.get('input')!r}{hint}")
    else:
        kind = first.get("type")
        msg = "unknown field" if kind == "extra_forbidden" else str(first.get("msg"))
        sv, en = f"{field}: {pydantic_swedish(first)}", f"{field}: {msg}"
    return problem_response(
        Problem(422, "validation", en, field=field, sv=sv, en=en), request.url.path
    )


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}
    problem = Problem(
        exc.status_code,
        kinds.get(exc.status_code, "http"),
        str(exc.detail),
        headers=dict(exc.headers or {}),
    )
    return problem_response(problem, request.url.path)


def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


def _unexpected(request: Request, exc: Exception) -> Response:
    # The type only: an exception message may quote case content (personnummer included).
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(
        Problem(500, "internal", "internal error; the request may be retried"),
        request.url.path,
    )


def _database_down(request: Request, exc: Exception) -> Response:
    """An unreachable or timed-out database is expected in operation: 503, one log line.
    Any other database error (a full disk, a deadlock) is a fault: the unexpected path."""
    if not connection_failure(exc):
        return _unexpected(request, exc)
    log.warning(
        "database unavailable (%s) on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
    )
    return problem_response(
        unavailable("the event store does not answer; retry later", retry_after=5),
        request.url.path,
    )


def _temporal_down(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RPCError)
    log.warning(
        "Temporal unavailable (%s) on %s %s", exc.status.name, request.method, request.url.path
    )
    return problem_response(
        unavailable(f"Temporal is unavailable ({exc.status.name}); retry later", retry_after=5),
        request.url.path,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem)
    for db_error in (
        psycopg.OperationalError,
        es_persistence.OperationalError,
        es_persistence.InterfaceError,
    ):
        app.add_exception_handler(db_error, _database_down)
    app.add_exception_handler(RPCError, _temporal_down)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
