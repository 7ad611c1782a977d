"""The codec server: lets authorised staff read encrypted Temporal payloads in the Web UI or CLI.

The Temporal server and its UI only ever hold ciphertext (``infra/temporal/codec.py``). A person
who needs
to see a case's workflow inputs points their UI (or ``temporal … --codec-endpoint``) at this
server, which decrypts with the same codec, but only for a bearer token it knows, and writes one
line per request to an append-only, hash-chained access log: who, when, namespace, workflow id
(if the client sends one), how many payloads — never their content. It implements Temporal's
codec server protocol: ``POST /encode`` and ``POST /decode`` with proto3-JSON ``{"payloads": […]}``.

The browser UI cannot add an ``Authorization`` header unless it runs with OIDC ("pass access
token"), so a token may also travel as the first path segment, ``/t/<token>/decode``: each staff
member then configures their personal endpoint URL in the UI's codec settings.

A case workflow's payloads are decoded with its own data key (``infra.persistence.workflowkeys``);
once gallring destroyed it the answer holds, in each such payload's place, the JSON string
``"⟨gallrad⟩"`` with metadata ``barnflow-gallrad: <key id>`` (the access log counts them), so the
UI shows what happened instead of an error for the whole history.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request  # = fastapi's: the routes' annotations name it at runtime
from starlette.responses import JSONResponse, Response  # = fastapi.responses'

if TYPE_CHECKING:
    from fastapi import FastAPI
    from temporalio.api.common.v1 import Payload

    from infra.temporal.codec import EncryptionCodec
    from infra.temporal.codec_protection import ProtectedCases

# fastapi, uvicorn and the settings are imported where they are used: ``register`` runs for
# every barnflow command, which must not pay for the web framework (docs/operations.md "CLI
# start-up"); starlette's request and responses (fastapi re-exports them) are cheap.


ENV_TOKENS = "BARNFLOW_CODEC_SERVER_TOKENS"
ENV_ORIGINS = "BARNFLOW_CODEC_SERVER_ORIGINS"
ENV_LOG = "BARNFLOW_CODEC_SERVER_LOG"
DEFAULT_ORIGINS = ("http://127.0.0.1:8233", "http://localhost:8233")
MIN_TOKEN_LEN = 32
MAX_BODY = 16 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_HEADER_MAX = 256
PROTECTED_SV = "Ärendet rör skyddade personuppgifter; din token får inte avkoda dess innehåll."
PROTECTED_EN = "the case concerns protected personal data; this token may not decode it"


@dataclass(frozen=True)
class CodecServerConfig:
    """Who may decode (name → sha256 of token), from which UI origins, and where it is logged."""

    token_digests: Mapping[str, str]
    origins: tuple[str, ...]
    log_path: Path
    #: name -> the token holder's role (``name:token:role``), judged against the kommun's
    #: ``[skydd] roller`` for a protected case's payloads; a token without one decodes none.
    token_roles: Mapping[str, str] = field(default_factory=dict)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_config(env: Mapping[str, str], home: Path) -> CodecServerConfig:
    """Read the codec server's settings; ``SettingsError`` names the bad variable."""
    from infra.config.settings import SettingsError

    raw = env.get(ENV_TOKENS, "").strip()
    if not raw:
        raise SettingsError(f"{ENV_TOKENS}: required (name:token,name:token …)")
    digests: dict[str, str] = {}
    roles: dict[str, str] = {}
    for i, item in enumerate(p.strip() for p in raw.split(",")):
        name, sep, token = item.partition(":")
        head, colon, role = token.rpartition(":")
        if colon and head and _ROLE.match(role):
            token, roles[name] = head, role
        if not sep or not _NAME.match(name):
            raise SettingsError(f"{ENV_TOKENS}[{i}]: expected name:token (name: letters, digits)")
        if len(token) < MIN_TOKEN_LEN:
            raise SettingsError(f"{ENV_TOKENS}[{i}]: token of {name} shorter than 32 characters")
        if _digest(token) in digests.values():
            raise SettingsError(f"{ENV_TOKENS}[{i}]: token of {name} is not unique")
        digests[name] = _digest(token)
    origins = tuple(o.strip() for o in env.get(ENV_ORIGINS, "").split(",") if o.strip())
    for o in origins:
        if not re.match(r"^https?://[^/\s]+$", o):
            raise SettingsError(f"{ENV_ORIGINS}: not an origin (scheme://host[:port]): {o!r}")
    log_path = Path(env.get(ENV_LOG) or home / "codec-server-access.log").expanduser()
    return CodecServerConfig(digests, origins or DEFAULT_ORIGINS, log_path, roles)


class AccessLog:
    """Append-only JSON lines, each carrying the sha256 of the line before (deletions show).

    The file is opened with ``O_APPEND`` and mode 0600 and every line is fsynced before the
    response leaves: a decode that was answered is a decode that was logged.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._prev = self._last_digest()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _last_digest(self) -> str:
        if not self.path.exists():
            return "0" * 64
        last = b""
        with self.path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    last = line.rstrip(b"\n")
        return hashlib.sha256(last).hexdigest() if last else "0" * 64

    def write(self, record: dict[str, Any]) -> None:
        with self._lock:
            line = orjson.dumps({**record, "prev": self._prev})
            os.write(self._fd, line + b"\n")
            os.fsync(self._fd)
            self._prev = hashlib.sha256(line).hexdigest()

    def close(self) -> None:
        os.close(self._fd)


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value[:_HEADER_MAX] if value else None


def _problem(status: int, title: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


Transform = Callable[[Sequence["Payload"]], Awaitable[list["Payload"]]]


def create_app(
    config: CodecServerConfig,
    codec: EncryptionCodec,
    log: AccessLog,
    protection: ProtectedCases | None = None,
    skydd_roles: Callable[[str], tuple[str, ...]] | None = None,
) -> FastAPI:
    """The ASGI app: ``/encode``, ``/decode`` (and ``/t/<token>/…``), CORS for the UI origins.

    With ``protection`` (the server's own start always passes it), decoded payloads that name a
    protected case are answered only to a token whose role the case's kommun names
    (``skydd_roles(kommun)``; POL-SKYDD-CODEC)."""
    from cryptography.exceptions import InvalidTag
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from temporalio.api.common.v1 import Payloads

    from domain.protection import DEFAULT_ROLES as DEFAULT_SKYDD_ROLES
    from domain.protection import may_read
    from infra.temporal.codec import GALLRAD_METADATA
    from infra.temporal.codec_protection import named_cases

    app = FastAPI(title="barnflow codec server", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(config.origins),
        allow_methods=["POST"],
        allow_headers=["Content-Type", "Authorization", "X-Namespace", "X-Workflow-Id"],
        allow_credentials=True,
    )

    def who(request: Request, path_token: str | None) -> str | None:
        auth = request.headers.get("authorization", "")
        token = path_token
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        if not token:
            return None
        digest = _digest(token)
        for name, known in config.token_digests.items():
            if hmac.compare_digest(digest, known):
                return name
        return None

    async def handle(
        request: Request, action: str, transform: Transform, path_token: str | None
    ) -> Response:
        record: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "action": action,
            "who": None,
            "namespace": _header(request, "x-namespace"),
            "workflow_id": _header(request, "x-workflow-id"),
            "origin": _header(request, "origin"),
            "remote": request.client.host if request.client else None,
            "payloads": 0,
        }
        name = who(request, path_token)
        if name is None:
            log.write({**record, "result": "denied", "status": 401})
            return _problem(
                401,
                "Unauthorized",
                "a valid bearer token is required",
                **{"WWW-Authenticate": 'Bearer realm="barnflow-codec"'},
            )
        record["who"] = name
        body = await request.body()
        if len(body) > MAX_BODY:
            log.write({**record, "result": "rejected", "status": 413})
            return _problem(413, "Payload Too Large", f"at most {MAX_BODY} bytes")
        try:
            payloads = json_format.Parse(body, Payloads())
        except (json_format.ParseError, UnicodeDecodeError, ValueError):
            log.write({**record, "result": "rejected", "status": 400})
            return _problem(400, "Bad Request", 'expected proto3 JSON {"payloads": [...]}')
        record["payloads"] = len(payloads.payloads)
        try:
            out = await transform(payloads.payloads)
        except (ValueError, InvalidTag, DecodeError) as exc:
            log.write({**record, "result": "undecryptable", "status": 422})
            detail = str(exc) if isinstance(exc, ValueError) else "payload fails authentication"
            return _problem(422, "Unprocessable Content", detail)
        if protection is not None and action == "decode":
            cases, workflows = named_cases(out, record["workflow_id"])
            kommuner = protection.kommuner(cases, workflows)
            role = config.token_roles.get(name)
            roles = skydd_roles or (lambda _k: DEFAULT_SKYDD_ROLES)
            if kommuner and not (role and all(may_read(role, roles(k)) for k in kommuner)):
                log.write({**record, "result": "protected", "status": 403})
                return JSONResponse(
                    {
                        "type": "about:blank",
                        "title": "Forbidden",
                        "status": 403,
                        "detail": PROTECTED_EN,
                        "sv": PROTECTED_SV,
                        "en": PROTECTED_EN,
                    },
                    status_code=403,
                    media_type="application/problem+json",
                )
        gallrad = sum(1 for p in out if GALLRAD_METADATA in p.metadata)
        if gallrad:  # the answer holds markers where gallring destroyed the content
            record["gallrad"] = gallrad
        log.write({**record, "result": "ok", "status": 200})
        return Response(
            json_format.MessageToJson(Payloads(payloads=out)), media_type="application/json"
        )

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await handle(request, "decode", codec.decode, None)

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await handle(request, "encode", codec.encode, None)

    @app.post("/t/{token}/decode")
    async def decode_t(request: Request, token: str) -> Response:
        return await handle(request, "decode", codec.decode, token)

    @app.post("/t/{token}/encode")
    async def encode_t(request: Request, token: str) -> Response:
        return await handle(request, "encode", codec.encode, token)

    return app


# ---------------------------------------------------------------------------- CLI
def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "codec-server", help="decode Temporal payloads for authorised staff (every decode logged)"
    )
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--host", default="127.0.0.1", help="interface (put TLS in front if remote)")
    p.set_defaults(func=cmd_codec_server)


def cmd_codec_server(args: argparse.Namespace) -> int:
    import uvicorn

    from infra.config.settings import load_settings
    from infra.persistence.embedded_pg import embedded_postgres
    from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
    from infra.temporal.codec import EncryptionCodec
    from infra.temporal.codec_protection import ProtectedCases

    settings = load_settings()
    config = load_config(os.environ, settings.home)
    with contextlib.ExitStack() as stack:
        # the store tells which cases are protected now (POL-SKYDD-CODEC)
        url = settings.database.url or stack.enter_context(embedded_postgres(settings.home))
        keys = settings.keys
        ensure_schema(url, settings.database.schema)
        store = CaseStore(
            env=eventsourcing_env(url, settings.database.schema, keys.cipher, keys.cipher_old)
        )
        stack.callback(store.close)
        # a case workflow's payloads open with its data key; a gallrad one reads ⟨gallrad⟩
        codec = EncryptionCodec(
            keys.codec, keys.codec_old, store.workflow_keys, gallrad_markers=True
        )
        log = AccessLog(config.log_path)
        stack.callback(log.close)
        protection = ProtectedCases(store, keys.pseudonym)
        app = create_app(config, codec, log, protection, settings.kommun_configs.skydd_roles)
        print(  # noqa: T201 - the one line an operator needs to see
            f"barnflow codec server on http://{args.host}:{args.port} "
            f"({len(config.token_digests)} authorised; UI origins {', '.join(config.origins)}; "
            f"access log {config.log_path})",
            flush=True,
        )
        uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
