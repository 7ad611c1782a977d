"""Stored rows → event dicts, the cheapest correct way (decrypt, decompress, one orjson parse).

eventsourcing's mapper builds a domain-event object per row; the projections only need the
docs/domain.md §4 envelope plus the store's position and recorded time, so they decode the stored
state directly with the application's own cipher and compressor (the same bytes, the same keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import Cipher, Compressor


class StateDecoder:
    """Decodes the ``state`` column of ``barnflow_events`` with a cipher and compressor."""

    def __init__(
        self,
        cipher: Cipher | None,
        compressor: Compressor | None = None,
        unseal: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self._cipher = cipher
        self._compressor = compressor
        self._unseal = unseal

    @classmethod
    def of(cls, app: Application[UUID]) -> StateDecoder:
        """The decoder of an application's mapper (the keys the store itself uses), opening
        sealed fields with the store's data keys (``CaseStore.unseal``) when it has them."""
        return cls(app.mapper.cipher, app.mapper.compressor, getattr(app, "unseal", None))

    def envelope(self, state: bytes, position: int) -> dict[str, Any]:
        """The event's envelope with ``position`` and ``recorded_at`` filled in."""
        raw = bytes(state)
        if self._cipher is not None:
            raw = self._cipher.decrypt(raw)
        if self._compressor is not None:
            raw = self._compressor.decompress(raw)
        obj = orjson.loads(raw)
        env: dict[str, Any] = obj.get("envelope") or {}
        if self._unseal is not None:
            env = dict(self._unseal(env))
        stamp = obj.get("timestamp")
        env["position"] = position
        env["recorded_at"] = stamp["_data_"] if isinstance(stamp, dict) else stamp
        return env
