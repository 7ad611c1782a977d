"""The Temporal client barnflow uses everywhere: payloads encrypted by our codec, tracing and
command metrics as interceptors, a bounded wait for a server that is still starting, and the
search attributes every case workflow carries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import (
    Client,
)
from temporalio.service import TLSConfig

from infra.config.retry import aretry_for
from infra.config.settings import Settings
from infra.config.timeouts import TEMPORAL_CONNECT_SERVICE, DependencyUnavailable
from infra.config.transport import TemporalTransport
from infra.telemetry import client_interceptors
from infra.temporal.codec import WorkflowKeySource, data_converter
from workflows import search

SEARCH_ATTRIBUTES = search.CLI_TYPES
_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


def indexed(kind: str) -> IndexedValueType.ValueType:
    """The server's index type for a ``temporal`` CLI type name (``Keyword``, ``Int`` …)."""
    return _INDEXED[kind]


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Register barnflow's search attributes on a namespace (test server; a cluster's operator
    can use this or ``temporal operator search-attribute create``). Already present is fine."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={name: _INDEXED[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )


async def connect(
    address: str,
    namespace: str,
    codec_key: bytes,
    old_codec_keys: Sequence[bytes] = (),
    *,
    wait: float = TEMPORAL_CONNECT_SERVICE,
    transport: TemporalTransport | None = None,
    workflow_keys: WorkflowKeySource | None = None,
) -> Client:
    """A client whose payloads are encrypted by the codec (old keys still decrypt: rotation;
    ``workflow_keys``, the store's, encrypt a case workflow's payloads under its own key);
    retries while the server boots, for up to ``wait`` seconds (one-shot CLI commands pass
    ``TEMPORAL_CONNECT_CLI``), then ``DependencyUnavailable`` naming the address.

    ``transport`` secures the connection (TLS, mTLS, API key). A TLS failure (wrong CA, a client
    certificate the server refuses, a server name that does not match) is not retried: it will
    not heal while we wait, so it is reported at once, in one line."""
    deadline = time.monotonic() + wait
    transport = transport or TemporalTransport()
    _CONNECTED.append(True)
    tls: bool | TLSConfig = (
        TLSConfig(
            server_root_ca_cert=transport.ca,
            domain=transport.server_name,
            client_cert=transport.cert,
            client_private_key=transport.key,
        )
        if transport.tls
        else False
    )

    async def attempt() -> Client:
        return await asyncio.wait_for(
            Client.connect(
                address,
                namespace=namespace,
                data_converter=data_converter(codec_key, old_codec_keys, workflow_keys),
                interceptors=client_interceptors(),  # OPS: tracing + command metrics
                tls=tls,
                api_key=transport.api_key,
            ),
            timeout=max(0.5, deadline - time.monotonic()),
        )

    async def attempt_unless_tls_fails() -> Client:
        try:
            return await attempt()
        except RuntimeError as exc:
            reason = tls_failure(exc, transport)
            if reason is not None:
                raise TransportRefused(
                    f"Temporal at {address}: the {transport.describe} connection failed: {reason}"
                ) from exc
            raise

    try:  # refused while starting (RuntimeError), or no answer
        return await aretry_for(wait, every=0.3, on=(RuntimeError, TimeoutError))(
            attempt_unless_tls_fails
        )
    except TransportRefused:
        raise
    except (RuntimeError, TimeoutError) as exc:
        closed = closed_after_handshake(exc, transport)
        if closed is not None:
            raise TransportRefused(
                f"Temporal at {address}: the {transport.describe} connection failed: {closed}"
            ) from exc
        reason = "no answer" if isinstance(exc, TimeoutError) else "connection failed"
        raise DependencyUnavailable(
            f"Temporal at {address} does not answer within {wait:g}s ({reason})"
        ) from exc


class TransportRefused(DependencyUnavailable):
    """The TLS handshake with Temporal failed: a configuration error, not a server that is
    still starting (reported as one line by the CLI like every ``DependencyUnavailable``)."""


#: Appended to when this process connects a Temporal client (``connected``).
_CONNECTED: list[bool] = []


def connected() -> bool:
    """Whether this process connected a Temporal client. The SDK's Rust threads can call into
    Python while the interpreter finalises and abort the process (``PyGILState_Release``,
    temporalio/sdk-python#300): measured here in about one short ``barnflow setup`` in three
    over mTLS and now and then in plaintext, turning a clean exit or our one-line error into a
    core dump. The CLI's entry point then exits without finalising (``infra.cli.main.entry``)."""
    return bool(_CONNECTED)


#: What the client's error says (tonic/rustls, inside temporalio's RuntimeError) → what to do.
_TLS_REASONS = (
    (
        "alert: CertificateRequired",
        "the server requires a client certificate "
        "(set BARNFLOW_TEMPORAL_TLS_CERT and BARNFLOW_TEMPORAL_TLS_KEY)",
    ),
    (
        "alert: UnknownCA",
        "the server refused the client certificate (BARNFLOW_TEMPORAL_TLS_CERT): "
        "it is not signed by a CA the server trusts",
    ),
    ("alert: BadCertificate", "the server refused the client certificate"),
    ("alert: CertificateExpired", "the server says the client certificate has expired"),
    ("UnknownIssuer", "the server's certificate is not signed by BARNFLOW_TEMPORAL_TLS_CA"),
    (
        "NotValidForName",
        "the server's certificate is not issued to this name "
        "(set BARNFLOW_TEMPORAL_TLS_SERVER_NAME to the name it is issued to)",
    ),
    ("InvalidCertificate(Expired", "the server's certificate has expired"),
    (
        "H2NotNegotiated",
        "the server did not negotiate HTTP/2 (ALPN h2): a TLS proxy in front of Temporal must "
        "offer it",
    ),
)


def tls_failure(exc: RuntimeError, transport: TemporalTransport) -> str | None:
    """Why a TLS connection failed, in words an operator acts on; None when ``exc`` is not a
    definite TLS failure (a server still starting: retried; ``closed_after_handshake``)."""
    text = str(exc)
    for marker, reason in _TLS_REASONS:
        if marker in text:
            return reason
    lowered = text.lower()
    if transport.tls and any(m in lowered for m in ("certificate", "handshake", "alert")):
        return " ".join(text.split())[-200:]
    return None


def closed_after_handshake(exc: BaseException, transport: TemporalTransport) -> str | None:
    """With TLS 1.3 a server that refuses the client certificate does so after the handshake:
    the client's first call finds the connection closed. A service behind a TLS proxy that is
    still starting looks the same, so this is retried for the whole wait and only then named."""
    if not (transport.tls and isinstance(exc, RuntimeError)):
        return None
    if "after connection" not in str(exc):
        return None
    return (
        "the server closed the connection after the TLS handshake: it refused the client "
        "certificate (BARNFLOW_TEMPORAL_TLS_CERT) or requires one, or the Temporal service "
        "behind it does not answer"
    )


async def connect_configured(
    settings: Settings,
    *,
    wait: float = TEMPORAL_CONNECT_SERVICE,
    workflow_keys: WorkflowKeySource | None = None,
) -> Client:
    """``connect`` with everything from the settings: address, namespace, codec keys, transport.
    Every process that reads or writes case workflows passes its store's ``workflow_keys``."""
    return await connect(
        settings.temporal_target,
        settings.temporal_namespace,
        settings.keys.codec,
        settings.keys.codec_old,
        wait=wait,
        transport=settings.temporal_transport,
        workflow_keys=workflow_keys,
    )
