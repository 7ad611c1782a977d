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
from infra.temporal.codec import data_converter
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
) -> Client:
    """A client whose payloads are encrypted by the codec (old keys still decrypt: rotation);
    retries while the server boots, for up to ``wait`` seconds (one-shot CLI commands pass
    ``TEMPORAL_CONNECT_CLI``), then ``DependencyUnavailable`` naming the address.

    ``transport`` secures the connection (TLS, mTLS, API key). A TLS failure (wrong CA, a client
    certificate the server refuses, a server name that does not match) is not retried: it will
    not heal while we wait, so it is reported at once, in one line."""
    deadline = time.monotonic() + wait
    transport = transport or TemporalTransport()
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
                data_converter=data_converter(codec_key, old_codec_keys),
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
            if _tls_failure(exc):
                raise TransportRefused(
                    f"Temporal at {address}: the {transport.describe} connection failed "
                    f"({_tls_reason(exc)}); check BARNFLOW_TEMPORAL_TLS_* and the server's "
                    "certificate"
                ) from exc
            raise

    try:  # refused while starting (RuntimeError), or no answer
        return await aretry_for(wait, every=0.3, on=(RuntimeError, TimeoutError))(
            attempt_unless_tls_fails
        )
    except TransportRefused:
        raise
    except (RuntimeError, TimeoutError) as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else "connection failed"
        raise DependencyUnavailable(
            f"Temporal at {address} does not answer within {wait:g}s ({reason})"
        ) from exc


class TransportRefused(DependencyUnavailable):
    """The TLS handshake with Temporal failed: a configuration error, not a server that is
    still starting (reported as one line by the CLI like every ``DependencyUnavailable``)."""


_TLS_MARKERS = ("certificate", "tls", "handshake", "ssl", "invalid peer", "unknownissuer")


def _tls_failure(exc: RuntimeError) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _TLS_MARKERS)


def _tls_reason(exc: RuntimeError) -> str:
    """The innermost cause in the client's error chain, on one line and bounded."""
    text = " ".join(str(exc).split())
    parts = [p.strip() for p in text.split(":") if p.strip()]
    tail = next((p for p in reversed(parts) if any(m in p.lower() for m in _TLS_MARKERS)), text)
    return tail[:200]


async def connect_configured(
    settings: Settings, *, wait: float = TEMPORAL_CONNECT_SERVICE
) -> Client:
    """``connect`` with everything from the settings: address, namespace, codec keys, transport."""
    return await connect(
        settings.temporal_target,
        settings.temporal_namespace,
        settings.keys.codec,
        settings.keys.codec_old,
        wait=wait,
        transport=settings.temporal_transport,
    )
