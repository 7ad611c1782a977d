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

from infra.config.retry import aretry_for
from infra.config.timeouts import TEMPORAL_CONNECT_SERVICE, DependencyUnavailable
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
) -> Client:
    """A client whose payloads are encrypted by the codec (old keys still decrypt: rotation);
    retries while the server boots, for up to ``wait`` seconds (one-shot CLI commands pass
    ``TEMPORAL_CONNECT_CLI``), then ``DependencyUnavailable`` naming the address."""
    deadline = time.monotonic() + wait

    async def attempt() -> Client:
        return await asyncio.wait_for(
            Client.connect(
                address,
                namespace=namespace,
                data_converter=data_converter(codec_key, old_codec_keys),
                interceptors=client_interceptors(),  # OPS: tracing + command metrics
            ),
            timeout=max(0.5, deadline - time.monotonic()),
        )

    try:  # refused while starting (RuntimeError), or no answer
        return await aretry_for(wait, every=0.3, on=(RuntimeError, TimeoutError))(attempt)
    except (RuntimeError, TimeoutError) as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else "connection failed"
        raise DependencyUnavailable(
            f"Temporal at {address} does not answer within {wait:g}s ({reason})"
        ) from exc
